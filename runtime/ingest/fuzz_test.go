package ingest

import (
	"encoding/json"
	"net/http"
	"testing"
	"unicode/utf8"
)

// FuzzBrowserEndpoint drives whole requests through the collector: whatever
// the body, the answer is one of the documented statuses, a 200 accounts for
// every event, and everything stored is clean.
func FuzzBrowserEndpoint(f *testing.F) {
	f.Add(batchBody("shop", browserEvent("a", testNow)))
	f.Add(batchBody("shop", browserEvent("a", testNow), browserEvent("b", testNow.Add(-100*MaxEventAge))))
	f.Add([]byte(`{"site":"shop","events":[{"event_id":"x","type":"custom","scripted":true,"ts":1763892000000,"props":{"a":"\u0000"}}]}`))
	f.Add([]byte(`{"site":"shop","events":[{"event_id":"r","type":"conversion","name":"refund","value":5,"scripted":true}]}`))
	f.Add([]byte(`{"site":"nope","events":[{}]}`))
	f.Add([]byte(`{`))
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		h.t = t
		h.w.reset()
		before := 0
		rec := h.postBatch(body)
		switch rec.Code {
		case http.StatusOK:
			var events struct {
				Events []json.RawMessage `json:"events"`
			}
			_ = json.Unmarshal(body, &events)
			res := decodeResult(t, rec)
			total := res.Accepted + res.Duplicates + len(res.Rejected)
			if len(events.Events) > 0 && total != len(events.Events) {
				t.Fatalf("%d events, response accounts for %d: %s", len(events.Events), total, rec.Body)
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge:
			if len(h.w.stored()) != before {
				t.Fatal("a refused request stored events")
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		for _, e := range h.w.stored()[before:] {
			if e.Site != "shop" || e.VisitorID == "" || e.SessionID == "" || !e.Type.Valid() || e.EventID == "" {
				t.Fatalf("stored incomplete event %+v", e)
			}
			if !utf8.ValidString(e.EventID) || !utf8.ValidString(e.URL) || (e.Properties != nil && !json.Valid(e.Properties)) {
				t.Fatalf("stored unclean event %+v", e)
			}
			if e.Timestamp.Before(testNow.Add(-MaxEventAge)) || e.Timestamp.After(testNow.Add(MaxClockSkew)) {
				t.Fatalf("stored event outside the time window: %v", e.Timestamp)
			}
			if e.Value != nil && *e.Value < 0 && e.Name != "refund" {
				t.Fatalf("stored negative value on %q", e.Name)
			}
		}
	})
}
