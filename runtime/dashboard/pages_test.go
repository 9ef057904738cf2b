package dashboard

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

func newPages(t *testing.T) http.Handler {
	t.Helper()
	api := &API{Store: fixtureStore(t), Now: func() time.Time { return fixtureNow },
		Goals: map[string][]store.Goal{"shop": {{Name: "sale", Event: "purchase"}}}}
	mux := http.NewServeMux()
	api.Register(mux)
	(&Pages{API: api}).Register(mux)
	return mux
}

// TestPagesShowTheAPIsNumbers renders every page and checks the numbers it
// shows against the fixture (the API tests check the same numbers).
func TestPagesShowTheAPIsNumbers(t *testing.T) {
	h := newPages(t)
	q := "?from=2026-11-14&to=2026-11-19"
	code, body := get(t, h, "/sites/shop/"+q)
	if code != 200 {
		t.Fatalf("overview: %d %s", code, body)
	}
	for _, want := range []string{
		`data-metric="visitors">2<`, `data-metric="pageviews">3<`, `data-metric="bounce_rate">50.0 %<`,
		`data-metric="revenue">50.00<`, `&#43;100.0 %`, // 2 visitors against 1 the period before
		`<script type="application/json" id="series">`, `href="/sites/shop/pages?from=2026-11-14&amp;to=2026-11-19"`,
		`value="2026-11-19"`, // the form shows the range's last day
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	for _, page := range []string{"pages", "sources", "channels", "campaigns", "devices", "goals", "realtime"} {
		code, body := get(t, h, "/sites/shop/"+page+q)
		if code != 200 || !strings.Contains(body, "<table") || !strings.Contains(body, `aria-current="page"`) {
			t.Errorf("%s: %d", page, code)
		}
	}
	if _, body := get(t, h, "/sites/shop/goals"+q); !strings.Contains(body, "<td>sale</td>") {
		t.Errorf("goals page lacks the goal row")
	}
	// Attribution: every model side by side; v1's purchase goes to
	// paid_search under each of them.
	code, body = get(t, h, "/sites/shop/attribution"+q)
	if code != 200 || !strings.Contains(body, "<th scope=\"col\" class=\"num\">data_driven</th>") ||
		!strings.Contains(body, "<td>paid_search</td><td class=\"num\">1</td><td class=\"num\">1</td>") {
		t.Errorf("attribution page: %d\n%s", code, body)
	}
	if code, _ := get(t, h, "/sites/shop/attribution?window=2d"); code != 400 {
		t.Errorf("attribution page with a bad window: %d, want 400", code)
	}
}

func TestPagesAreSafe(t *testing.T) {
	h := newPages(t)
	rec := recorder(t, h, "/sites/shop/?page=%3Cscript%3Ealert(1)%3C/script%3E")
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(rec.Body.String(), "<script>alert(1)") {
		t.Errorf("a filter value is rendered as markup")
	}
	if code, _ := get(t, h, "/sites/other/"); code != 404 {
		t.Errorf("another site's pages: %d, want 404", code)
	}
	if code, body := get(t, h, "/assets/uplot/uPlot.iife.min.js"); code != 200 || !strings.Contains(body, "uPlot") {
		t.Errorf("uPlot asset: %d", code)
	}
}
