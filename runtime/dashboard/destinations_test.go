package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// TestDeliveryHealthAndReplay: the destinations report counts a
// destination's records and lists its failures; a replay needs confirm=yes,
// makes the failed deliveries pending again and is audited.
func TestDeliveryHealthAndReplay(t *testing.T) {
	ctx := context.Background()
	st := fixtureStore(t)
	// Destination hook tracked the fixture's purchase (event 3) and page
	// view 1; the purchase failed, the page view was sent.
	if _, err := st.OpenCursor(ctx, "shop", "hook", time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), false); err != nil {
		t.Fatal(err)
	}
	fed, pos, err := st.Feed(ctx, "shop", "hook", 100)
	if err != nil {
		t.Fatal(err)
	}
	var recs []store.Delivery
	for _, e := range fed {
		if e.EventID == "1" || e.EventID == "3" {
			recs = append(recs, store.Delivery{EventID: e.EventID, Status: store.DeliveryPending, SendAs: "x", ReceivedAt: e.ReceivedAt, Source: e.Source})
		}
	}
	if _, err := st.Track(ctx, "shop", "hook", recs, pos); err != nil {
		t.Fatal(err)
	}
	if err := st.Record(ctx, "shop", "hook", []store.Delivery{
		{EventID: "1", Status: store.DeliverySent, Attempts: 1},
		{EventID: "3", Status: store.DeliveryFailed, Attempts: 1, Reason: "HTTP 400: bad currency"},
	}); err != nil {
		t.Fatal(err)
	}
	api := &API{Store: st, Audit: st, Now: func() time.Time { return fixtureNow },
		Goals: map[string][]store.Goal{"shop": nil}, Destinations: map[string][]string{"shop": {"hook"}}}
	mux := http.NewServeMux()
	api.Register(mux)

	code, body := get(t, mux, "/api/v1/sites/shop/destinations?from=2026-11-19&to=2026-11-19")
	for _, want := range []string{`"name":"hook"`, `"sent":1`, `"failed":1`, `"event_id":"3","reason":"HTTP 400: bad currency","attempts":1`,
		// 11-19: the page view sent, the purchase failed: half accepted.
		`"days":[{"day":"2026-11-19","sent":1,"skipped":0,"failed":1,"pending":0,"accepted_share":0.5}]`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("%d %s\nwant it to contain %s", code, body, want)
		}
	}
	(&Pages{API: api}).Register(mux)
	_, page := get(t, mux, "/sites/shop/destinations?from=2026-11-19&to=2026-11-19")
	day := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC).Unix()
	chart := fmt.Sprintf(`data-target="chart-hook">{"x":[%d],"series":[{"label":"Sent","color":"#137a3a","values":[1]},{"label":"Failed","color":"#b42318","values":[1]},`, day)
	if !strings.Contains(page, chart) {
		t.Errorf("the destinations page lacks the per-day chart %s\n%s", chart, page)
	}
	post := func(path string, form url.Values) (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, _ := post("/api/v1/sites/shop/destinations/hook/replay", url.Values{}); code != 400 {
		t.Errorf("replay without confirm: %d, want 400", code)
	}
	if code, _ := post("/api/v1/sites/shop/destinations/nope/replay", url.Values{"confirm": {"yes"}}); code != 404 {
		t.Errorf("replay of an unknown destination: %d, want 404", code)
	}
	if code, body := post("/api/v1/sites/shop/destinations/hook/replay", url.Values{"confirm": {"yes"}}); code != 200 || !strings.Contains(body, `"replayed":1`) {
		t.Fatalf("replay: %d %s", code, body)
	}
	if _, body := get(t, mux, "/api/v1/sites/shop/destinations"); !strings.Contains(body, `"pending":1`) || !strings.Contains(body, `"failed":0`) {
		t.Errorf("after the replay: %s, want the purchase pending again", body)
	}
	entries, err := st.ListAudit(ctx, "shop", 10)
	if err != nil || len(entries) != 1 || entries[0].Action != "replay" || entries[0].Detail != "destination hook: 1 failed deliveries" {
		t.Errorf("audit log %+v (%v), want the replay", entries, err)
	}
}
