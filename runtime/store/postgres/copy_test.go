package postgres

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trackstack/trackstack/runtime/event"
)

// FuzzAppendJSONString checks the hand-written JSON quoting used for click
// ids and matching data against encoding/json.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "ctl \x01\x1f\n\r\t", "ü ✓ 🎉", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // store.Normalize guarantees valid UTF-8
		}
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q quoted as %s: not JSON: %v", s, b, err)
		}
		if got != s {
			t.Fatalf("%q quoted as %s decodes to %q", s, b, got)
		}
	})
}

func TestAppendRowLayout(t *testing.T) {
	v := 2.5
	e := event.Event{Site: "s", EventID: "id", Type: event.TypeClick, Source: event.SourceBrowser,
		ReceivedAt: time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC), Value: &v,
		ClickIDs: map[string]string{"gclid": `a"b`}, User: event.User{EmailSHA256: "h"}}
	b := appendRow(nil, &e)
	if got := binary.BigEndian.Uint16(b); got != copyColumnCount {
		t.Fatalf("field count = %d, want %d", got, copyColumnCount)
	}
	// Walk the fields: each is a length (or -1 for NULL) and its bytes.
	fields := map[int][]byte{}
	p := b[2:]
	for i := range copyColumnCount {
		n := int32(binary.BigEndian.Uint32(p))
		p = p[4:]
		if n < 0 {
			continue
		}
		fields[i], p = p[:n], p[n:]
	}
	if len(p) != 0 {
		t.Fatalf("%d bytes left after %d fields", len(p), copyColumnCount)
	}
	if us := int64(binary.BigEndian.Uint64(fields[1])); us != 1_000_000 {
		t.Errorf("received_at = %d µs after 2000-01-01, want 1000000", us)
	}
	if string(fields[18]) != "\x01"+`{"gclid":"a\"b"}` {
		t.Errorf("click_ids = %q", fields[18])
	}
	if string(fields[36]) != "\x01"+`{"em":"h"}` {
		t.Errorf("user_data = %q", fields[36])
	}
	if _, ok := fields[7]; ok {
		t.Errorf("empty visitor_id is not NULL")
	}
}
