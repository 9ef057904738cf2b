package storetest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// LoneSurrogateEscapes returns the \uXXXX escapes of the JSON text p that
// name a UTF-16 surrogate outside a high-then-low pair. PostgreSQL's jsonb
// rejects text holding one (SQLSTATE 22P02), so a store must never be handed
// such properties. An escaped backslash followed by "u" is not an escape.
func LoneSurrogateEscapes(p []byte) []string {
	var lone []string
	for i := 0; i+1 < len(p); i++ {
		if p[i] != '\\' {
			continue
		}
		u, ok := unicodeEscapeAt(p, i)
		if !ok {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		switch {
		case isHighSurrogate(u):
			if low, ok := unicodeEscapeAt(p, i+6); ok && isLowSurrogate(low) {
				i += 11
				continue
			}
			lone = append(lone, string(p[i:i+6]))
		case isLowSurrogate(u):
			lone = append(lone, string(p[i:i+6]))
		}
		i += 5
	}
	return lone
}

// unicodeEscapeAt reads the \uXXXX escape starting at p[i].
func unicodeEscapeAt(p []byte, i int) (rune, bool) {
	if i+6 > len(p) || p[i] != '\\' || p[i+1] != 'u' {
		return 0, false
	}
	u, err := strconv.ParseUint(string(p[i+2:i+6]), 16, 16)
	return rune(u), err == nil
}

func isHighSurrogate(r rune) bool { return utf16.IsSurrogate(r) && r < 0xdc00 }
func isLowSurrogate(r rune) bool  { return utf16.IsSurrogate(r) && r >= 0xdc00 }

// SurrogateEscapes returns the JSON escapes of every surrogate code point
// from lo to hi, in lower case and, every other one, in upper case.
func SurrogateEscapes(lo, hi rune) []string {
	var out []string
	for r := lo; r <= hi; r++ {
		esc := fmt.Sprintf(`\u%04x`, r)
		if r%2 == 1 {
			esc = `\u` + strings.ToUpper(esc[2:])
		}
		out = append(out, esc)
	}
	return out
}

// runLoneSurrogates stores, in one batch, events whose properties hold
// every lone surrogate, high and low, as values and as keys: a store that
// passed one through to PostgreSQL would have the whole batch rejected.
func runLoneSurrogates(t *testing.T, fresh func(*testing.T) store.Store, now time.Time) {
	t.Run("LoneSurrogates", func(t *testing.T) {
		s := fresh(t)
		cases := []struct {
			id, props, want string
		}{
			{"high", surrogateArray(0xd800, 0xdbff), replacementArray(1024)},
			{"low", surrogateArray(0xdc00, 0xdfff), replacementArray(1024)},
			{"keys", `{"h\ud800":1,"l\uDC00":2}`, `{"h\ufffd":1,"l\ufffd":2}`},
			{"mixed", `{"in":"x\udfffy","reversed":"\udc00\ud800","two_high":"\udbff\uDBFF","pair":"\ud83c\udf89","escaped":"\\udc00"}`,
				`{"in":"x\ufffdy","reversed":"\ufffd\ufffd","two_high":"\ufffd\ufffd","pair":"🎉","escaped":"\\udc00"}`},
		}
		batch := []event.Event{Full("shop", "plain", now)}
		for i, c := range cases {
			e := Full("shop", c.id, now.Add(time.Duration(i+1)*time.Microsecond))
			e.Properties = json.RawMessage(c.props)
			batch = append(batch, e)
		}
		mustInsert(t, s, batch, len(batch))

		got := map[string]event.Event{}
		for _, e := range mustRecent(t, s, "shop", len(batch)) {
			got[e.EventID] = e
		}
		for _, c := range cases {
			e, ok := got[c.id]
			if !ok {
				t.Errorf("event %s was not stored", c.id)
				continue
			}
			if lone := LoneSurrogateEscapes(e.Properties); len(lone) > 0 {
				t.Errorf("%s: stored properties still hold %d lone surrogates, first %s", c.id, len(lone), lone[0])
			}
			assertJSON(t, c.id+" properties", e.Properties, json.RawMessage(c.want))
		}
	})
}

// surrogateArray is a JSON array of one string per surrogate from lo to hi.
func surrogateArray(lo, hi rune) string {
	return `["` + strings.Join(SurrogateEscapes(lo, hi), `","`) + `"]`
}

func replacementArray(n int) string {
	return `[` + strings.TrimSuffix(strings.Repeat(`"\ufffd",`, n), ",") + `]`
}
