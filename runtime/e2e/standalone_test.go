package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/internal/browsertest"
	"github.com/trackstack/trackstack/runtime/standalone"
)

// startStandalone runs the standalone server in process on a free port
// with a fresh data directory, until the test ends.
func startStandalone(t *testing.T, files ...string) *standalone.Server {
	t.Helper()
	s, err := standalone.New(context.Background(), standalone.Options{
		Files: files, DataDir: filepath.Join(t.TempDir(), "data"), Listen: "127.0.0.1:0",
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("standalone server: %v", err)
		}
	})
	return s
}

// TestStandaloneInBrowser opens the standalone demo pages in Chromium and
// reads what was stored back through the events API.
func TestStandaloneInBrowser(t *testing.T) {
	s := startStandalone(t, "testdata/standalone")
	b := browsertest.Start(t)
	password := string(s.Keys().AdminPassword)
	t.Run("shop visit", func(t *testing.T) {
		shopVisit(t, b, s.URL(), apiEvents(s.URL(), "shop", password))
	})
	t.Run("consent", func(t *testing.T) {
		consentVisit(t, b, s.URL()+"/sites/consent/", apiEvents(s.URL(), "consent", password))
	})
}

// consentVisit proves that a site with consent mode optIn stores nothing
// before trackstack.consent grants it, and everything after.
func consentVisit(t *testing.T, b *browsertest.Browser, pageURL string, read events) {
	tab := newTab(t, b)
	landing := pageURL + "?utm_source=newsletter&utm_medium=email&gclid=xyz"
	navigate(t, tab, landing)
	click(t, tab, "cta")
	click(t, tab, "nav-about")
	// More than a batch (10) and a hidden page: either would flush at once
	// if the tracker were allowed to send.
	sent := eval[int](t, tab, `for (let i = 0; i < 11; i++) trackstack.track("queued", {i}); hidePage(); sent.length`)
	if sent != 0 {
		t.Fatalf("before consent the page sent %d requests", sent)
	}
	if evs := read(t); len(evs) != 0 {
		t.Fatalf("before consent the store holds:%s", describe(evs))
	}

	click(t, tab, "consent")
	evs := waitFor(t, read, "the events released by consent", func(evs []event.Event) bool { return len(evs) >= 14 })
	if len(evs) != 14 {
		t.Errorf("%d events, want the page view, the SPA page view, the click and 11 custom events:%s", len(evs), describe(evs))
	}
	if n := len(find(evs, event.TypePageview, "")); n != 2 {
		t.Errorf("%d page views, want 2", n)
	}
	if n := len(find(evs, event.TypeClick, "signup_click")); n != 1 {
		t.Errorf("%d clicks, want 1", n)
	}
	for _, e := range evs {
		// The tracker stamps the consent state when it releases an event:
		// granted on every one shows none left before consent.
		if e.Consent.AnalyticsStorage != event.Granted || e.Consent.AdStorage != event.Granted {
			t.Errorf("%s/%s stored with consent %+v", e.Type, e.Name, e.Consent)
		}
		if e.ClickIDs["gclid"] != "xyz" || e.UTM.Source != "newsletter" || e.Channel != event.ChannelPaidSearch {
			t.Errorf("%s/%s attribution utm %+v click ids %v channel %s", e.Type, e.Name, e.UTM, e.ClickIDs, e.Channel)
		}
		if !strings.HasPrefix(e.URL, pageURL) {
			t.Errorf("%s/%s url %s", e.Type, e.Name, e.URL)
		}
	}
	if n := eval[int](t, tab, `sent.length`); n == 0 {
		t.Error("the page sent nothing after consent")
	}
}

// tcfSetup is a fake IAB TCF v2 consent platform on the page: it records
// the listeners tcf.js registers, and tcfDecide(data) calls them.
const tcfSetup = `
window.tcfListeners = [];
window.__tcfapi = (cmd, version, cb) => { if (cmd === "addEventListener" && version === 2) tcfListeners.push(cb); };
window.tcfDecide = (data) => tcfListeners.forEach((cb) => cb(data, true));
`

// TestStandaloneSharedTrackerPath opens the demo pages of two sites that
// share the tracker path /_ts, so each page loads t.js?site=NAME. What t.js
// loads beside itself, x.js (the site's pixel bridges) and tcf.js, must be
// that site's too, or the page's pixel and its CMP are never reached.
func TestStandaloneSharedTrackerPath(t *testing.T) {
	s := startStandalone(t, "testdata/shared-path")
	b := browsertest.Start(t)
	password := string(s.Keys().AdminPassword)

	t.Run("pixel", func(t *testing.T) {
		tab := newTab(t, b)
		navigate(t, tab, s.URL()+"/")
		click(t, tab, "buy")
		evs := waitFor(t, apiEvents(s.URL(), "shop", password), "the purchase", has(event.TypeConversion, "purchase"))
		conv := find(evs, event.TypeConversion, "purchase")[0]
		poll(t, tab, `fbqCalls.some(c => c[1] === "Purchase")`)
		calls := eval[[][]any](t, tab, `fbqCalls`)
		var ids []any
		for _, c := range calls {
			if len(c) == 4 && c[1] == "Purchase" {
				ids = append(ids, c[3].(map[string]any)["eventID"])
			}
		}
		if len(ids) != 1 || ids[0] != conv.EventID {
			t.Errorf("the page's fbq got Purchase event ids %v, want exactly the stored %s (calls %v)", ids, conv.EventID, calls)
		}
	})

	t.Run("tcf", func(t *testing.T) {
		tab := newTab(t, b)
		if _, err := chromedp.Call(tab.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: tcfSetup}); err != nil {
			t.Fatal(err)
		}
		navigate(t, tab, s.URL()+"/sites/news/")
		poll(t, tab, `tcfListeners.length > 0`) // tcf.js has loaded and registered
		if sent := eval[int](t, tab, `hidePage(); sent.length`); sent != 0 {
			t.Fatalf("before the CMP decided the page sent %d requests", sent)
		}
		eval[bool](t, tab, `tcfDecide({eventStatus: "useractioncomplete", gdprApplies: true, purpose: {consents: {1: true, 7: true}}}); trackstack.track("decided"); true`)
		evs := waitFor(t, apiEvents(s.URL(), "news", password), "the events released by the CMP", has(event.TypeCustom, "decided"))
		if len(evs) != 2 || len(find(evs, event.TypePageview, "")) != 1 {
			t.Errorf("stored %s, want the page view and the custom event", describe(evs))
		}
		want := event.Consent{AdStorage: event.Granted, AnalyticsStorage: event.Granted, AdUserData: event.Granted, AdPersonalization: event.Denied}
		for _, e := range evs {
			if e.Consent != want {
				t.Errorf("%s/%s stored with consent %+v, want the CMP's %+v", e.Type, e.Name, e.Consent, want)
			}
		}
	})
}
