package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// TestErasureRequests: a JSON request erases a visitor at once when the
// site has no retention policy (200) and waits for the next run when it
// has one (202); the page's form needs confirm=yes; the list and the
// audit log never show the key.
func TestErasureRequests(t *testing.T) {
	ctx := context.Background()
	st := fixtureStore(t)
	api := &API{Store: st, Audit: st, Now: func() time.Time { return fixtureNow },
		Goals: map[string][]store.Goal{"shop": nil, "other": nil}, Retention: map[string]bool{"other": true}}
	mux := http.NewServeMux()
	api.Register(mux)
	send := func(path, contentType, body string) (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, c := range []struct {
		name, path, contentType, body string
		code                          int
		want                          string
	}{
		{"two keys", "/api/v1/sites/shop/erasures", "application/json", `{"visitor_id":"v1","user_id":"u"}`, 400, "exactly one"},
		{"unknown field", "/api/v1/sites/shop/erasures", "application/json", `{"ip":"1.2.3.4"}`, 400, "unknown field"},
		{"unknown site", "/api/v1/sites/nope/erasures", "application/json", `{"visitor_id":"v1"}`, 404, "unknown site"},
		{"form without confirm", "/api/v1/sites/shop/erasures", "application/x-www-form-urlencoded", url.Values{"key_kind": {"visitor_id"}, "key": {"v1"}}.Encode(), 400, "confirm"},
		{"no policy: at once", "/api/v1/sites/shop/erasures", "application/json", `{"visitor_id":"v1","suppress":true}`, 200, `"completed":true,"result":{"eventsDeleted":3`},
		{"with a policy: at the next run", "/api/v1/sites/other/erasures", "application/json", `{"visitor_id":"o1"}`, 202, `"completed":false`},
	} {
		if code, body := send(c.path, c.contentType, c.body); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s; want %d and %s", c.name, code, body, c.code, c.want)
		}
	}
	left, _ := st.Recent(ctx, "shop", 100)
	for _, e := range left {
		if e.VisitorID == "v1" {
			t.Errorf("event %s of the erased visitor is still stored", e.EventID)
		}
	}
	if len(left) == 0 {
		t.Error("the erasure deleted the other visitors' events too")
	}
	if other, _ := st.Recent(ctx, "other", 10); len(other) != 1 {
		t.Errorf("the pending erasure of site other ran: %d events left", len(other))
	}
	code, body := get(t, mux, "/api/v1/sites/shop/erasures")
	if code != 200 || !strings.Contains(body, `"key_kind":"visitor_id","suppress":true,"completed_at":"`) || strings.Contains(body, "v1") {
		t.Errorf("erasures list: %d %s; want the completed request without its key", code, body)
	}
	entries, _ := st.ListAudit(ctx, "shop", 10)
	if len(entries) != 1 || entries[0].Action != "erasure" || entries[0].Detail != "erasure 1: 3 events deleted" {
		t.Errorf("audit log %+v, want the erasure without its key", entries)
	}
	form := url.Values{"key_kind": {"user_id"}, "key": {"nobody"}, "confirm": {"yes"}}.Encode()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/v1/sites/shop/erasures", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/sites/shop/erasures?requested=") {
		t.Errorf("the page's form: %d %s, want a redirect to the erasures page", rec.Code, rec.Header().Get("Location"))
	}
}
