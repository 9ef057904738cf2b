package standalone

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
)

// fakeRecent records the limit it was asked for.
type fakeRecent struct {
	events []event.Event
	limit  int
	err    error
}

func (f *fakeRecent) Recent(_ context.Context, site string, limit int) ([]event.Event, error) {
	f.limit = limit
	return f.events, f.err
}

func apiRequest(t *testing.T, api *EventsAPI, target, user, pass string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/sites/{site}/events", api)
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if user != "" || pass != "" {
		r.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	return rec
}

func TestEventsAPIAnswers(t *testing.T) {
	v := 49.9
	store := &fakeRecent{events: []event.Event{{
		Site: "shop", EventID: "e1", Type: event.TypeConversion, Name: "purchase", Source: event.SourceBrowser,
		ReceivedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), URL: "https://shop.example.com/?gclid=abc",
		UTM: event.UTM{Source: "google"}, ClickIDs: map[string]string{"gclid": "abc"}, Channel: event.ChannelPaidSearch,
		Value: &v, Currency: "EUR", OrderID: "A-1", IP: "203.0.113.0", User: event.User{EmailSHA256: "secret-hash"},
	}}}
	api := &EventsAPI{Store: store, Sites: map[string]bool{"shop": true}, Admin: NewAdmin([]byte("pw"))}
	const url = "/api/v1/sites/shop/events"
	for _, tc := range []struct {
		name, target, user, pass string
		status                   int
		limit                    int // asked of the store; 0 when it must not be asked
	}{
		{"no credentials", url, "", "", http.StatusUnauthorized, 0},
		{"wrong password", url, "admin", "nope", http.StatusUnauthorized, 0},
		{"wrong user", url, "root", "pw", http.StatusUnauthorized, 0},
		{"unknown site", "/api/v1/sites/blog/events", "admin", "pw", http.StatusNotFound, 0},
		{"default limit", url, "admin", "pw", http.StatusOK, DefaultEventsLimit},
		{"limit", url + "?limit=7", "admin", "pw", http.StatusOK, 7},
		{"max limit", url + "?limit=1000", "admin", "pw", http.StatusOK, 1000},
		{"limit too big", url + "?limit=1001", "admin", "pw", http.StatusBadRequest, 0},
		{"limit zero", url + "?limit=0", "admin", "pw", http.StatusBadRequest, 0},
		{"limit not a number", url + "?limit=ten", "admin", "pw", http.StatusBadRequest, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store.limit = 0
			rec := apiRequest(t, api, tc.target, tc.user, tc.pass)
			if rec.Code != tc.status || store.limit != tc.limit {
				t.Fatalf("status %d (store asked for %d), want %d (%d): %s", rec.Code, store.limit, tc.status, tc.limit, rec.Body)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: %v", rec.Header())
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
			}
		})
	}

	rec := apiRequest(t, api, url, "admin", "pw")
	var got []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got) != 1 {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	e := got[0]
	for _, k := range []string{"event_id", "type", "name", "url", "referrer", "visitor_id", "session_id", "channel",
		"utm", "click_ids", "consent", "value", "currency", "order_id", "ip", "received_at"} {
		if _, ok := e[k]; !ok {
			t.Errorf("event lacks %q: %v", k, e)
		}
	}
	if e["value"] != 49.9 || e["channel"] != "paid_search" || e["click_ids"].(map[string]any)["gclid"] != "abc" ||
		e["utm"].(map[string]any)["medium"] != "" || e["received_at"] != "2026-11-23T10:00:00Z" {
		t.Errorf("event %v", e)
	}
	if strings.Contains(rec.Body.String(), "secret-hash") {
		t.Error("matching data is shown")
	}

	store.err = errors.New("disk on fire")
	if rec := apiRequest(t, api, url, "admin", "pw"); rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "fire") {
		t.Errorf("store error: %d %s", rec.Code, rec.Body)
	}
	if rec := apiRequest(t, &EventsAPI{Store: store, Sites: map[string]bool{"shop": true}}, url, "admin", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("without a password configured: %d", rec.Code)
	}
}

func TestDemoPage(t *testing.T) {
	sites := []*config.Runtime{
		{Site: config.Site{Name: "shop", Domains: []string{"localhost"}}, Tracker: config.Tracker{Path: "/_ts", ConsentMode: "none"}},
		{Site: config.Site{Name: "blog", Domains: []string{"example.org"}}, Tracker: config.Tracker{Path: "/_b/", ConsentMode: "optIn"}},
		{Site: config.Site{Name: "wiki", Domains: []string{"example.org"}}, Tracker: config.Tracker{Path: "/_b", ConsentMode: "none"}},
	}
	mux := http.NewServeMux()
	NewDemo(sites).Register(mux)
	for _, tc := range []struct {
		name, host, path string
		status           int
		want, not        []string
	}{
		{"default site", "localhost:8080", "/", 200, []string{
			`<script defer src="http://localhost:8080/_ts/t.js" data-site="shop"></script>`,
			`&lt;script defer src=&#34;http://localhost:8080/_ts/t.js&#34; data-site=&#34;shop&#34;&gt;&lt;/script&gt;`,
			`href="/admin/events?site=shop"`, `href="/demo/pricing"`, `href="/try/blog/"`,
		}, []string{"Events from this page will be refused", `id="consent"`, `type="password"`, "sessionStorage", "Basic "}},
		{"SPA link", "localhost:8080", "/demo/pricing", 200, []string{`data-site="shop"`}, nil},
		{"other site, sharing a tracker path", "example.org", "/try/blog/demo/about", 200, []string{
			`src="http://example.org/_b/t.js?site=blog" data-site="blog"`, `href="/try/blog/demo/pricing"`, `id="consent"`,
			`&lt;script defer src=&#34;http://example.org/_b/t.js?site=blog&#34;`,
		}, nil},
		{"host not among the domains", "127.0.0.1:8080", "/", 200, []string{"Events from this page will be refused", "<code>127.0.0.1</code>"}, nil},
		{"unknown site", "localhost", "/try/nope/", 404, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			r.Host = tc.host
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d", rec.Code)
			}
			for _, w := range tc.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("page lacks %s", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(rec.Body.String(), n) {
					t.Errorf("page has %s", n)
				}
			}
		})
	}
}
