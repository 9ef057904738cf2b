package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

func base() event.Event {
	return event.Event{Site: "shop", EventID: "e1", Type: event.TypePageview, Source: event.SourceBrowser,
		ReceivedAt: time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 7200))}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*event.Event)
		check   func(*testing.T, event.Event)
		wantErr string
	}{
		{name: "times in UTC at microseconds", check: func(t *testing.T, e event.Event) {
			want := time.Date(2026, 5, 1, 10, 0, 0, 123456000, time.UTC)
			if e.ReceivedAt != want {
				t.Errorf("received_at = %v, want %v", e.ReceivedAt, want)
			}
		}},
		{name: "NUL and invalid UTF-8 replaced", mutate: func(e *event.Event) { e.URL = "a\x00b\xffc"; e.UTM.Term = "ok ✓" },
			check: func(t *testing.T, e event.Event) {
				if e.URL != "a\uFFFDb\uFFFDc" || e.UTM.Term != "ok ✓" {
					t.Errorf("url %q, term %q", e.URL, e.UTM.Term)
				}
			}},
		{name: "click id keys and values cleaned", mutate: func(e *event.Event) { e.ClickIDs = map[string]string{"g\x00": "v\xfe"} },
			check: func(t *testing.T, e event.Event) {
				if e.ClickIDs["g\uFFFD"] != "v\uFFFD" {
					t.Errorf("click ids = %q", e.ClickIDs)
				}
			}},
		{name: "empty click ids dropped", mutate: func(e *event.Event) { e.ClickIDs = map[string]string{} },
			check: func(t *testing.T, e event.Event) {
				if e.ClickIDs != nil {
					t.Errorf("click ids = %v, want nil", e.ClickIDs)
				}
			}},
		{name: "null properties dropped", mutate: func(e *event.Event) { e.Properties = json.RawMessage(" null ") },
			check: func(t *testing.T, e event.Event) {
				if e.Properties != nil {
					t.Errorf("properties = %s, want nil", e.Properties)
				}
			}},
		{name: "NUL escapes in properties replaced", mutate: func(e *event.Event) { e.Properties = json.RawMessage(`{"a\u0000":["x\u0000"]}`) },
			check: func(t *testing.T, e event.Event) {
				if string(e.Properties) != `{"a`+"\uFFFD"+`":["x`+"\uFFFD"+`"]}` {
					t.Errorf("properties = %s", e.Properties)
				}
			}},
		{name: "surrogate pair kept, reversed and doubled halves replaced",
			mutate: func(e *event.Event) {
				e.Properties = json.RawMessage(`["\ud83c\udf89","\udc00\ud800","\udbff\uDBFF","x\uDFFF"]`)
			},
			check: func(t *testing.T, e event.Event) {
				if want := strings.ReplaceAll(`["🎉","??","??","x?"]`, "?", "\uFFFD"); string(e.Properties) != want {
					t.Errorf("properties = %s, want %s", e.Properties, want)
				}
			}},
		{name: "escaped backslash before u kept",
			mutate: func(e *event.Event) { e.Properties = json.RawMessage(`["\\udc00"]`) },
			check: func(t *testing.T, e event.Event) {
				if want := `["\\udc00"]`; string(e.Properties) != want {
					t.Errorf("properties = %s, want %s", e.Properties, want)
				}
			}},
		{name: "no site", mutate: func(e *event.Event) { e.Site = "" }, wantErr: "site"},
		{name: "no event id", mutate: func(e *event.Event) { e.EventID = "" }, wantErr: "event_id"},
		{name: "no received_at", mutate: func(e *event.Event) { e.ReceivedAt = time.Time{} }, wantErr: "received_at"},
		{name: "properties not JSON", mutate: func(e *event.Event) { e.Properties = json.RawMessage(`{`) }, wantErr: "properties"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base()
			if tt.mutate != nil {
				tt.mutate(&e)
			}
			got, err := store.Normalize(e)
			if tt.wantErr != "" {
				if !errors.Is(err, store.ErrInvalidEvent) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Normalize error = %v, want ErrInvalidEvent about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestNormalizeLoneSurrogates checks every lone surrogate escape, high
// and low, in a property value and in a key: each must become U+FFFD,
// because PostgreSQL's jsonb rejects the batch holding one.
func TestNormalizeLoneSurrogates(t *testing.T) {
	ranges := []struct {
		name   string
		lo, hi rune
	}{
		{"high", 0xd800, 0xdbff},
		{"low", 0xdc00, 0xdfff},
	}
	for _, r := range ranges {
		t.Run(r.name, func(t *testing.T) {
			var kept []string
			for _, esc := range storetest.SurrogateEscapes(r.lo, r.hi) {
				e := base()
				e.Properties = json.RawMessage(`{"v":"a` + esc + `b","` + esc + `":1}`)
				got, err := store.Normalize(e)
				if err != nil {
					t.Fatalf("%s: %v", esc, err)
				}
				if want := strings.ReplaceAll(`{"v":"a?b","?":1}`, "?", "\uFFFD"); string(got.Properties) != want {
					kept = append(kept, esc+" -> "+string(got.Properties))
				}
			}
			if len(kept) > 0 {
				t.Errorf("%d of the %d lone %s surrogate escapes were not replaced by U+FFFD, e.g. %s", len(kept), r.hi-r.lo+1, r.name, kept[0])
			}
		})
	}
}

// FuzzNormalize feeds outside input (texts and properties as clients send
// them) through Normalize: what it accepts must be storable by both stores,
// and normalizing again must change nothing.
func FuzzNormalize(f *testing.F) {
	f.Add("https://shop.example.com/?q=✓", "gclid", "Cj0", []byte(`{"a":1}`))
	f.Add("a\x00b", "k\xff", "v", []byte(`{"s":"\u0000"}`))
	f.Add("", "", "", []byte(`null`))
	f.Add("x", "y", "z", []byte(`[1,"\ud800",{"k":"\\u0000"}]`))
	f.Add("x", "y", "z", []byte(`{"\udc00":"\uDFFF","p":"\ud83c\udf89","r":"\udc00\ud800"}`))
	f.Add("x", "y", "z", []byte(`["\\udc00","\udbff\udbff"]`))
	f.Add("x", "y", "z", []byte(`{"low":"\udc00"}`))
	f.Fuzz(func(t *testing.T, text, key, value string, props []byte) {
		e := base()
		e.URL, e.Name = text, text
		e.ClickIDs = map[string]string{key: value}
		e.Properties = props
		got, err := store.Normalize(e)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidEvent) {
				t.Fatalf("error %v is not ErrInvalidEvent", err)
			}
			return
		}
		for _, s := range []string{got.URL, got.Name} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("text %q is not storable", s)
			}
		}
		for k, v := range got.ClickIDs {
			if !utf8.ValidString(k+v) || strings.ContainsRune(k+v, 0) {
				t.Fatalf("click id %q=%q is not storable", k, v)
			}
		}
		if got.Properties != nil {
			if !json.Valid(got.Properties) || !utf8.Valid(got.Properties) {
				t.Fatalf("properties %q are not valid JSON", got.Properties)
			}
			var v any
			if err := json.Unmarshal(got.Properties, &v); err != nil {
				t.Fatal(err)
			}
			if hasNul(v) {
				t.Fatalf("properties %s still hold NUL", got.Properties)
			}
			if lone := storetest.LoneSurrogateEscapes(got.Properties); len(lone) > 0 {
				t.Fatalf("properties %s still hold the lone surrogate escapes %q", got.Properties, lone)
			}
		}
		again, err := store.Normalize(got)
		if err != nil {
			t.Fatalf("normalizing a normalized event failed: %v", err)
		}
		if again.URL != got.URL || string(again.Properties) != string(got.Properties) {
			t.Fatalf("Normalize is not idempotent: %q -> %q", got.URL, again.URL)
		}
	})
}

func hasNul(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, 0)
	case []any:
		for _, y := range x {
			if hasNul(y) {
				return true
			}
		}
	case map[string]any:
		for k, y := range x {
			if strings.ContainsRune(k, 0) || hasNul(y) {
				return true
			}
		}
	}
	return false
}
