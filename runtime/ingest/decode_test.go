package ingest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trackstack/trackstack/runtime/event"
)

func TestDecodeBrowserFields(t *testing.T) {
	body := `{"site":"shop","events":[{
		"event_id":"e1","type":"conversion","name":"purchase","ts":1763892000000,
		"url":"https://shop.example.com/x","referrer":null,"title":"T","screen":"1x1","lang":"de",
		"utm":{"source":"s","medium":"m","campaign":"c","term":"t","content":"o","other":"ignored"},
		"click_ids":{"gclid":"g","foo":"bar","fbclid":""},
		"cookies":{"fbp":"p","fbc":"c","ga":"GA1.2.3.4"},
		"consent":{"ad_storage":"GRANTED","analytics_storage":"denied","ad_user_data":"maybe"},
		"props":{"a":[1,true,null,"x\u0000y"],"b":{"c":1.5e3}},
		"value":10,"currency":"usd","order_id":"o1","user_id":"u1",
		"user":{"em":"E","ph":"P","fn":"F","ln":"L","ct":"C","zp":"Z","country":"de"},
		"scripted":true,"unknown":{"deep":[1,2,3]}
	}]}`
	b, err := newDecoder().decodeBrowser([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	e, m := b.events[0], b.metas[0]
	want := event.Event{
		EventID: "e1", Type: event.TypeConversion, Name: "purchase",
		Timestamp: time.UnixMilli(1763892000000).UTC(),
		URL:       "https://shop.example.com/x", Screen: "1x1", Language: "de",
		UTM: event.UTM{Source: "s", Medium: "m", Campaign: "c", Term: "t", Content: "o"},
		FBP: "p", FBC: "c", GAClientID: "3.4",
		Consent:  event.Consent{AdStorage: event.Granted, AnalyticsStorage: event.Denied},
		Currency: "usd", OrderID: "o1", UserID: "u1",
	}
	if e.ClickIDs["gclid"] != "g" || len(e.ClickIDs) != 1 {
		t.Errorf("click ids %v", e.ClickIDs)
	}
	if e.Value == nil || *e.Value != 10 {
		t.Errorf("value %v", e.Value)
	}
	if got := string(e.Properties); got != `{"a":[1,true,null,"xy"],"b":{"c":1500}}` {
		t.Errorf("props %s", got)
	}
	e.ClickIDs, e.Value, e.Properties = nil, nil, nil
	if !eventsEqual(e, want) {
		t.Errorf("event\n%+v\nwant\n%+v", e, want)
	}
	if !m.scripted || !m.hasTime || m.reason != "" || m.user.Email != "E" || m.user.Country != "de" {
		t.Errorf("meta %+v", m)
	}
}

func eventsEqual(a, b event.Event) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestDecodeBrowserPaths(t *testing.T) {
	tests := map[string]string{
		`{"site":"s","events":[{"event_id":1}]}`:                "events[0].event_id: expected string, got number",
		`{"site":"s","events":[{},{"ts":"now"}]}`:               "events[1].ts: expected number, got string",
		`{"site":"s","events":[{"click_ids":[]}]}`:              "events[0].click_ids: expected object, got array",
		`{"site":"s","events":[{"cookies":{"fbp":false}}]}`:     "events[0].cookies.fbp: expected string, got boolean",
		`{"site":"s","events":[{"consent":{"ad_storage":{}}}]}`: "events[0].consent.ad_storage: expected string, got object",
		`{"site":"s","events":[{"user":{"em":null,"ph":2}}]}`:   "events[0].user.ph: expected string, got number",
		`{"site":"s","events":[{"value":NaN}]}`:                 "events[0].value: not a finite number",
		`{"site":"s","events":[{"type":true}]}`:                 "events[0].type: expected string, got boolean",
		`{"site":["s"],"events":[{}]}`:                          "site: expected string, got array",
		`{"site":"s","events":[{}]} x`:                          "body is not valid JSON",
		`"just a string"`:                                       "body: expected object, got string",
	}
	for body, want := range tests {
		t.Run(want, func(t *testing.T) {
			_, err := newDecoder().decodeBrowser([]byte(body))
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
		})
	}
}

func TestDecodeCleansStrings(t *testing.T) {
	b, err := newDecoder().decodeBrowser([]byte("{\"site\":\"s\",\"events\":[{\"event_id\":\"a\\u0000b\",\"url\":\"x\xffy\",\"referrer\":\"" + strings.Repeat("r", 3000) + "\"}]}"))
	if err != nil {
		t.Fatal(err)
	}
	e := b.events[0]
	if e.EventID != "ab" || e.URL != "x\uFFFDy" || len(e.Referrer) != maxURLLen {
		t.Fatalf("event_id %q url %q referrer %d bytes", e.EventID, e.URL, len(e.Referrer))
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := map[string]string{
		"plain":        `"plain"`,
		"q\"b\\":       `"q\"b\\"`,
		"\n\r\t\x01":   `"\n\r\t\u0001"`,
		"nul\x00":      `"nul"`,
		"<a&b>":        `"\u003ca\u0026b\u003e"`,
		"bad\xff":      `"bad\ufffd"`,
		"ü€😀":          `"ü€😀"`,
		"\u2028\u2029": `"\u2028\u2029"`,
	}
	for in, want := range tests {
		got := string(appendJSONString(nil, []byte(in)))
		if got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%s is not JSON: %v", got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name       string
		ev         event.Event
		hasTime    bool
		wantReason string
		check      func(t *testing.T, e event.Event)
	}{
		{name: "default pageview name", ev: event.Event{EventID: "a", Type: event.TypePageview}, check: func(t *testing.T, e event.Event) {
			if e.Name != "pageview" || !e.Timestamp.Equal(testNow) {
				t.Errorf("name %q ts %v", e.Name, e.Timestamp)
			}
		}},
		{name: "custom needs a name", ev: event.Event{EventID: "a", Type: event.TypeCustom}, wantReason: ReasonInvalid},
		{name: "no type", ev: event.Event{EventID: "a", Name: "x"}, wantReason: ReasonInvalid},
		{name: "long id", ev: event.Event{EventID: strings.Repeat("a", 129), Type: event.TypeClick}, wantReason: ReasonInvalid},
		{name: "control char id", ev: event.Event{EventID: "a\tb", Type: event.TypeClick}, wantReason: ReasonInvalid},
		{name: "long name", ev: event.Event{EventID: "a", Type: event.TypeCustom, Name: strings.Repeat("n", 129)}, wantReason: ReasonInvalid},
		{name: "long order id", ev: event.Event{EventID: "a", Type: event.TypeClick, OrderID: strings.Repeat("o", 129)}, wantReason: ReasonInvalid},
		{name: "currency upper-cased", ev: event.Event{EventID: "a", Type: event.TypeConversion, Name: "purchase", Currency: "eUr"}, check: func(t *testing.T, e event.Event) {
			if e.Currency != "EUR" {
				t.Errorf("currency %q", e.Currency)
			}
		}},
		{name: "currency digits", ev: event.Event{EventID: "a", Type: event.TypeConversion, Name: "purchase", Currency: "EU1"}, wantReason: ReasonInvalid},
		{name: "refund positive", ev: event.Event{EventID: "a", Type: event.TypeConversion, Name: "refund", Value: f(5)}, check: func(t *testing.T, e event.Event) {
			if *e.Value != -5 {
				t.Errorf("value %v", *e.Value)
			}
		}},
		{name: "purchase negative", ev: event.Event{EventID: "a", Type: event.TypeConversion, Name: "purchase", Value: f(-1)}, wantReason: ReasonInvalid},
		{name: "zero value", ev: event.Event{EventID: "a", Type: event.TypeConversion, Name: "purchase", Value: f(0)}},
		{name: "too old", ev: event.Event{EventID: "a", Type: event.TypeClick, Timestamp: testNow.Add(-MaxEventAge - time.Nanosecond)}, hasTime: true, wantReason: ReasonTooOld},
		{name: "in future", ev: event.Event{EventID: "a", Type: event.TypeClick, Timestamp: testNow.Add(MaxClockSkew + time.Nanosecond)}, hasTime: true, wantReason: ReasonInFuture},
		{name: "first failure wins", ev: event.Event{Type: event.TypeClick, Timestamp: testNow.Add(time.Hour)}, hasTime: true, wantReason: ReasonInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, m := tt.ev, meta{hasTime: tt.hasTime}
			validate(&e, &m, testNow)
			if m.reason != tt.wantReason {
				t.Fatalf("reason %q (%s), want %q", m.reason, m.detail, tt.wantReason)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

// checkBatch asserts what every decoded batch guarantees to the store.
func checkBatch(t *testing.T, b *batch, maxEvents int) {
	t.Helper()
	if len(b.events) == 0 || len(b.events) > maxEvents || len(b.events) != len(b.metas) {
		t.Fatalf("%d events, %d metas", len(b.events), len(b.metas))
	}
	for i, e := range b.events {
		for _, s := range []string{e.EventID, e.Name, e.URL, e.Referrer, e.Currency, e.OrderID, e.UserID, e.VisitorID,
			e.UTM.Source, e.UTM.Medium, e.UTM.Campaign, e.UTM.Term, e.UTM.Content, e.FBP, e.FBC, e.GAClientID, e.Screen, e.Language} {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				t.Fatalf("events[%d] has an unclean string %q", i, s)
			}
		}
		if len(e.URL) > maxURLLen || len(e.Referrer) > maxURLLen {
			t.Fatalf("events[%d] URL not truncated", i)
		}
		if e.Properties != nil && !json.Valid(e.Properties) {
			t.Fatalf("events[%d] properties are not JSON: %q", i, e.Properties)
		}
		if e.Properties != nil && strings.Contains(string(e.Properties), `\u0000`) {
			t.Fatalf("events[%d] properties hold NUL", i)
		}
		if e.Type != "" && !e.Type.Valid() {
			t.Fatalf("events[%d] type %q", i, e.Type)
		}
	}
}

func FuzzDecodeBrowser(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzDecodeBrowser.
	d := newDecoder()
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := d.decodeBrowser(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		checkBatch(t, b, MaxBrowserEvents)
	})
}

func FuzzDecodeServer(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzDecodeServer.
	d := newDecoder()
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := d.decodeServer(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		checkBatch(t, b, MaxServerEvents)
		for i, m := range b.metas {
			if !m.hasTime {
				t.Fatalf("events[%d]: a server event would get a default time", i)
			}
		}
	})
}
