// Package e2e runs the runtime end to end: the trackstack binary and the
// standalone server with real Chromium (runtime/internal/browsertest),
// SQLite and PostgreSQL (runtime/internal/pgtest), and the operator's own
// builders for what a pod mounts.
package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/internal/browsertest"
)

// desktopUA replaces HeadlessChrome's user agent, which the collector drops
// as a bot, with the one of a desktop Chrome.
const desktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// pageSetup runs in every page of a test tab before the page's scripts:
//   - window.fbq is the page's own Meta pixel, a stub recording its calls;
//   - sent records the tracker's requests to its endpoint, so a test can
//     prove nothing left the page;
//   - hidePage() fires visibilitychange as hidden, which makes the tracker
//     flush at once (with sendBeacon), so "nothing sent" is decided then.
const pageSetup = `
window.fbqCalls = [];
window.fbq = function () { fbqCalls.push(Array.from(arguments)); };
window.sent = [];
(() => {
  const isEndpoint = (u) => /\/e$/.test(new URL(u, location.href).pathname);
  const beacon = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (u, b) => (isEndpoint(String(u)) && sent.push(String(u)), beacon(u, b));
  const fetch0 = window.fetch;
  window.fetch = (u, o) => (isEndpoint(String(u)) && sent.push(String(u)), fetch0(u, o));
})();
window.hidePage = () => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  document.dispatchEvent(new Event("visibilitychange"));
  delete document.hidden;
};
`

// newTab opens a tab with the desktop user agent and pageSetup; the page's
// errors are logged when the test ends.
func newTab(t *testing.T, b *browsertest.Browser) *browsertest.Tab {
	t.Helper()
	tab := b.Tab(t)
	t.Cleanup(func() {
		for _, l := range tab.Logs() {
			t.Logf("page: %s", l)
		}
	})
	if _, err := chromedp.Call(tab.Ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: desktopUA}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageSetup}); err != nil {
		t.Fatal(err)
	}
	return tab
}

func navigate(t *testing.T, tab *browsertest.Tab, url string) {
	t.Helper()
	if err := chromedp.Do(tab.Ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	// t.js has run: it replaces the snippet's queue with its API.
	poll(t, tab, `window.trackstack && !Array.isArray(trackstack.q)`)
}

func eval[T any](t *testing.T, tab *browsertest.Tab, js string) T {
	t.Helper()
	v, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

func poll(t *testing.T, tab *browsertest.Tab, js string) {
	t.Helper()
	if _, err := chromedp.Run(tab.Ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", js, err)
	}
}

func click(t *testing.T, tab *browsertest.Tab, id string) {
	t.Helper()
	if err := chromedp.Do(tab.Ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		t.Fatalf("clicking #%s: %v", id, err)
	}
}

// events reads the stored events of a site, newest first.
type events func(t *testing.T) []event.Event

// waitFor polls the stored events until cond holds, and returns them.
func waitFor(t *testing.T, read events, what string, cond func([]event.Event) bool) []event.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs := read(t)
		if cond(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s; stored: %s", what, describe(evs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func has(typ event.Type, name string) func([]event.Event) bool {
	return func(evs []event.Event) bool { return len(find(evs, typ, name)) > 0 }
}

func find(evs []event.Event, typ event.Type, name string) []event.Event {
	var out []event.Event
	for _, e := range evs {
		if e.Type == typ && (name == "" || e.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

func describe(evs []event.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString("\n  " + string(e.Type) + "/" + e.Name + " " + e.URL)
	}
	return b.String()
}

// apiEvents reads a site's events from the standalone events API.
func apiEvents(base, site, password string) events {
	return func(t *testing.T) []event.Event {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+"/api/v1/sites/"+site+"/events?limit=1000", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("admin", password)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("events API: %d %s", res.StatusCode, body)
		}
		// The API's field names are the event model's.
		var evs []event.Event
		if err := json.Unmarshal(body, &evs); err != nil {
			t.Fatalf("events API body: %v", err)
		}
		return evs
	}
}

// shopVisit follows one visitor of the demo page from an ad click: landing
// page view, SPA navigation, a click, a form and a purchase. It checks each
// is stored exactly once with the landing page's attribution, and that the
// page's own Meta pixel got the purchase with the stored event_id.
func shopVisit(t *testing.T, b *browsertest.Browser, base string, read events) {
	landing := base + "/?utm_source=google&utm_medium=cpc&utm_campaign=x&gclid=abc123"
	tab := newTab(t, b)
	navigate(t, tab, landing)
	waitFor(t, read, "the landing page view", has(event.TypePageview, ""))

	click(t, tab, "nav-pricing")
	waitFor(t, read, "the SPA page view", func(evs []event.Event) bool {
		for _, e := range find(evs, event.TypePageview, "") {
			if strings.HasSuffix(e.URL, "/demo/pricing") {
				return true
			}
		}
		return false
	})
	click(t, tab, "cta")
	waitFor(t, read, "the click", has(event.TypeClick, "signup_click"))
	if err := chromedp.Do(tab.Ctx, chromedp.SendKeys(`input[name="email"]`, "Ada.Lovelace@example.com")); err != nil {
		t.Fatal(err)
	}
	click(t, tab, "submit")
	waitFor(t, read, "the form submission", has(event.TypeFormSubmit, ""))
	click(t, tab, "buy")
	waitFor(t, read, "the purchase", has(event.TypeConversion, "purchase"))
	// Events leave in order: once this one is stored, nothing is pending.
	eval[bool](t, tab, `trackstack.track("end"); true`)
	evs := waitFor(t, read, "the last event", has(event.TypeCustom, "end"))

	pageviews := find(evs, event.TypePageview, "")
	if len(pageviews) != 2 {
		t.Fatalf("%d page views, want the landing page and the SPA page:%s", len(pageviews), describe(evs))
	}
	// Newest first.
	spa, land := pageviews[0], pageviews[1]
	if land.URL != landing || !strings.HasSuffix(spa.URL, "/demo/pricing") || spa.Referrer != landing {
		t.Errorf("page views %s (referrer %s) and %s", spa.URL, spa.Referrer, land.URL)
	}
	for _, k := range []struct {
		typ  event.Type
		name string
	}{{event.TypeClick, "signup_click"}, {event.TypeFormSubmit, "form_submit"}, {event.TypeConversion, "purchase"}, {event.TypeCustom, "end"}} {
		if n := len(find(evs, k.typ, k.name)); n != 1 {
			t.Errorf("%d %s/%s events, want exactly one:%s", n, k.typ, k.name, describe(evs))
		}
	}
	if len(evs) != 6 {
		t.Errorf("%d events, want 6:%s", len(evs), describe(evs))
	}
	for _, e := range evs {
		if e.UTM != (event.UTM{Source: "google", Medium: "cpc", Campaign: "x"}) || e.ClickIDs["gclid"] != "abc123" || e.Channel != event.ChannelPaidSearch {
			t.Errorf("%s/%s lost the landing attribution: utm %+v click ids %v channel %q", e.Type, e.Name, e.UTM, e.ClickIDs, e.Channel)
		}
		if e.VisitorID == "" || e.VisitorID != land.VisitorID || e.SessionID == "" || e.SessionID != land.SessionID {
			t.Errorf("%s/%s visitor %q session %q, want those of the landing page view (%q, %q)", e.Type, e.Name, e.VisitorID, e.SessionID, land.VisitorID, land.SessionID)
		}
		if e.IP != "127.0.0.0" || e.Device.Browser != "Chrome" {
			t.Errorf("%s/%s ip %q device %+v", e.Type, e.Name, e.IP, e.Device)
		}
	}
	conv := find(evs, event.TypeConversion, "purchase")[0]
	if conv.Value == nil || *conv.Value != 49.9 || conv.Currency != "EUR" || !strings.HasPrefix(conv.OrderID, "DEMO-") {
		t.Errorf("purchase value %v %s order %q", conv.Value, conv.Currency, conv.OrderID)
	}

	poll(t, tab, `fbqCalls.some(c => c[1] === "Purchase")`)
	calls := eval[[][]any](t, tab, `fbqCalls`)
	var purchases []string
	for _, c := range calls {
		if len(c) == 4 && c[1] == "Purchase" {
			purchases = append(purchases, c[3].(map[string]any)["eventID"].(string))
		}
	}
	if len(purchases) != 1 || purchases[0] != conv.EventID {
		t.Errorf("the page's fbq got Purchase event ids %v, want exactly the stored %s (calls %v)", purchases, conv.EventID, calls)
	}
}
