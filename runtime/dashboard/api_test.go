package dashboard

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// fixtureNow is the tests' clock: the fixture's events are on 2026-11-19
// and 2026-11-09 (UTC).
var fixtureNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// fixtureStore holds, for site shop: on 11-19 two visitors (v1: two page
// views and a 50 EUR purchase from google/cpc on mobile; v2: one page view,
// direct, desktop), and on 11-09 one visitor (v3: one page view); for
// site other, one page view that shop must never count.
func fixtureStore(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)
	v := 50.0
	mobile := event.Device{Type: "mobile", Browser: "Chrome", OS: "Android"}
	desktop := event.Device{Type: "desktop", Browser: "Firefox", OS: "Linux"}
	cpc := event.UTM{Source: "google", Medium: "cpc", Campaign: "=sale"}
	evs := []event.Event{
		{EventID: "1", Type: event.TypePageview, Name: "pageview", VisitorID: "v1", SessionID: "s1", URL: "https://shop.example.com/", UTM: cpc, Channel: event.ChannelPaidSearch, Device: mobile, ReceivedAt: day},
		{EventID: "2", Type: event.TypePageview, Name: "pageview", VisitorID: "v1", SessionID: "s1", URL: "https://shop.example.com/pricing", UTM: cpc, Channel: event.ChannelPaidSearch, Device: mobile, ReceivedAt: day.Add(time.Minute)},
		{EventID: "3", Type: event.TypeConversion, Name: "purchase", VisitorID: "v1", SessionID: "s1", URL: "https://shop.example.com/pricing", UTM: cpc, Channel: event.ChannelPaidSearch, Device: mobile, Value: &v, Currency: "EUR", ReceivedAt: day.Add(2 * time.Minute)},
		{EventID: "4", Type: event.TypePageview, Name: "pageview", VisitorID: "v2", SessionID: "s2", URL: "https://shop.example.com/", Channel: event.ChannelDirect, Device: desktop, ReceivedAt: day.Add(time.Hour)},
		{EventID: "5", Type: event.TypePageview, Name: "pageview", VisitorID: "v3", SessionID: "s3", URL: "https://shop.example.com/", Channel: event.ChannelDirect, Device: desktop, ReceivedAt: day.Add(-10 * 24 * time.Hour)},
	}
	other := event.Event{Site: "other", EventID: "x", Type: event.TypePageview, Name: "pageview", VisitorID: "o1", SessionID: "o1", URL: "https://other.example/", ReceivedAt: day}
	for i := range evs {
		evs[i].Site, evs[i].Source, evs[i].Timestamp = "shop", event.SourceBrowser, evs[i].ReceivedAt
	}
	other.Source, other.Timestamp = event.SourceBrowser, other.ReceivedAt
	if _, err := st.Insert(ctx, append(evs, other)); err != nil {
		t.Fatal(err)
	}
	return st
}

func newAPI(t *testing.T) http.Handler {
	t.Helper()
	api := &API{Store: fixtureStore(t), Now: func() time.Time { return fixtureNow },
		Goals: map[string][]store.Goal{"shop": {{Name: "sale", Event: "purchase"}, {Name: "pricing", Path: "/pricing"}}}}
	mux := http.NewServeMux()
	api.Register(mux)
	return mux
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func TestOverviewComparesWithThePreviousPeriod(t *testing.T) {
	h := newAPI(t)
	code, body := get(t, h, "/api/v1/sites/shop/overview?from=2026-11-14&to=2026-11-19")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var ov Overview
	if err := json.Unmarshal([]byte(body), &ov); err != nil {
		t.Fatal(err)
	}
	want := store.Totals{Visitors: 2, Sessions: 2, Pageviews: 3, BounceRate: 0.5, VisitSecs: 60, Conversions: 1, Revenue: 50}
	if ov.Current != want {
		t.Errorf("current %+v, want %+v", ov.Current, want)
	}
	if ov.Previous.Visitors != 1 || ov.Previous.Pageviews != 1 {
		t.Errorf("previous %+v, want v3's one page view of 11-09", ov.Previous)
	}
}

func TestBreakdownsFiltersAndGoals(t *testing.T) {
	h := newAPI(t)
	for _, tc := range []struct {
		path string
		want string // a fragment of the JSON
	}{
		{"/api/v1/sites/shop/pages?from=2026-11-19&to=2026-11-19", `{"value":"/","visitors":2,"pageviews":2`},
		{"/api/v1/sites/shop/channels?from=2026-11-19&to=2026-11-19", `{"value":"paid_search","visitors":1,"pageviews":2,"conversions":1,"revenue":50}`},
		{"/api/v1/sites/shop/devices?from=2026-11-19&to=2026-11-19&by=os", `"dimension":"os"`},
		{"/api/v1/sites/shop/campaigns?from=2026-11-19&to=2026-11-19&device=desktop", `"rows":[{"value":"(none)","visitors":1`},
		{"/api/v1/sites/shop/goals?from=2026-11-19&to=2026-11-19", `{"name":"sale","visitors":1,"completions":1,"revenue":50,"conversion_rate":0.5}`},
		{"/api/v1/sites/shop/timeseries?from=2026-11-18&to=2026-11-19", `"interval":"hour"`},
		{"/api/v1/sites/shop/realtime", `"totals":{"visitors":0`},
		// v1 came from google/cpc at 10:00 and bought for 50 at 10:02.
		{"/api/v1/sites/shop/attribution?from=2026-11-19&to=2026-11-19", `"model":"last_non_direct","window":"30d","by":"channel","credits":[{"key":"paid_search","conversions":1,"revenue":50}]`},
		{"/api/v1/sites/shop/attribution?from=2026-11-19&to=2026-11-19&model=first_touch&by=campaign&window=1d", `"credits":[{"key":"=sale","conversions":1,"revenue":50}]`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body := get(t, h, tc.path)
			if code != 200 || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s\nwant it to contain %s", code, body, tc.want)
			}
		})
	}
}

func TestCSVExport(t *testing.T) {
	h := newAPI(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/sites/shop/campaigns?from=2026-11-19&to=2026-11-19&format=csv", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "shop-campaigns.csv") {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "campaign,visitors,pageviews,conversions,revenue" {
		t.Errorf("header %v", rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		if r[0] == "'=sale" {
			found = r[1] == "1" && r[4] == "50"
		}
	}
	if !found {
		t.Errorf("rows %v: want the campaign =sale defused as '=sale with 1 visitor and 50 revenue", rows)
	}
}

func TestAPIErrors(t *testing.T) {
	h := newAPI(t)
	for path, want := range map[string]int{
		"/api/v1/sites/other/overview":               404, // served by the store, but not by this dashboard
		"/api/v1/sites/shop/bounces":                 404,
		"/api/v1/sites/shop/overview?from=never":     400,
		"/api/v1/sites/shop/pages?limit=100000":      400,
		"/api/v1/sites/shop/timeseries?interval=mo":  400,
		"/api/v1/sites/shop/devices?by=screen":       400,
		"/api/v1/sites/shop/attribution?model=magic": 400,
		"/api/v1/sites/shop/attribution?window=3d":   400,
		"/api/v1/sites/shop/attribution?by=device":   400,
	} {
		if code, body := get(t, h, path); code != want || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s, want %d with an error", path, code, body, want)
		}
	}
}

func recorder(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

// TestJourneysReport: v1's journey by visitor id, by order... (the fixture
// has no order ids, so by visitor), and the page's search form.
func TestJourneysReport(t *testing.T) {
	h := newPages(t)
	code, body := get(t, h, "/api/v1/sites/shop/journeys?visitor_id=v1")
	if code != 200 || strings.Count(body, `"at":`) != 3 || !strings.Contains(body, `"type":"conversion","name":"purchase"`) {
		t.Fatalf("v1's journey: %d %s; want its three events with the purchase", code, body)
	}
	if _, body := get(t, h, "/api/v1/sites/shop/journeys?visitor_id=v1&user_id=u"); !strings.Contains(body, "exactly one") {
		t.Errorf("two keys: %s", body)
	}
	if _, body := get(t, h, "/api/v1/sites/shop/journeys?email=not-an-email"); !strings.Contains(body, `"steps":[]`) {
		t.Errorf("a malformed email must match nothing: %s", body)
	}
	if code, body := get(t, h, "/sites/shop/journeys?visitor_id=v1"); code != 200 || !strings.Contains(body, `name="email"`) || !strings.Contains(body, "/pricing") {
		t.Errorf("journeys page: %d", code)
	}
}

// TestJourneysStitchByEmail: a site that allows it joins visitors by the
// email digest their events share; others do not.
func TestJourneysStitchByEmail(t *testing.T) {
	st := fixtureStore(t)
	at := fixtureNow.Add(-time.Hour)
	digest, _ := enrich.EmailDigest("jo@example.com")
	var evs []event.Event
	for i, v := range []string{"v-phone", "v-laptop"} {
		e := event.Event{Site: "shop", EventID: fmt.Sprintf("signup-%d", i), Type: event.TypeConversion, Name: "lead", Source: event.SourceBrowser,
			VisitorID: v, Timestamp: at, ReceivedAt: at}
		e.User.EmailSHA256 = digest
		evs = append(evs, e)
	}
	if _, err := st.Insert(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	for _, stitch := range []bool{false, true} {
		api := &API{Store: st, Now: func() time.Time { return fixtureNow }, Goals: map[string][]store.Goal{"shop": nil},
			StitchByEmail: map[string]bool{"shop": stitch}}
		mux := http.NewServeMux()
		api.Register(mux)
		_, body := get(t, mux, "/api/v1/sites/shop/journeys?visitor_id=v-phone")
		if want := map[bool]int{false: 1, true: 2}[stitch]; strings.Count(body, `"at":`) != want {
			t.Errorf("stitch by email %v: %s; want %d steps", stitch, body, want)
		}
	}
}
