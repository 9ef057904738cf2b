package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/internal/browsertest"
	"github.com/trackstack/trackstack/runtime/standalone"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// startStandalone runs the standalone server in process on a free port
// with a fresh data directory, until the test ends.
func startStandalone(t *testing.T, files ...string) *standalone.Server {
	t.Helper()
	return startStandaloneIn(t, filepath.Join(t.TempDir(), "data"), files...)
}

// startStandaloneIn is startStandalone with the data directory dataDir.
func startStandaloneIn(t *testing.T, dataDir string, files ...string) *standalone.Server {
	t.Helper()
	s, err := standalone.New(context.Background(), standalone.Options{
		Files: files, DataDir: dataDir, Listen: "127.0.0.1:0",
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
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startStandaloneIn(t, dataDir, "testdata/standalone")
	b := browsertest.Start(t)
	password := string(s.Keys().AdminPassword)
	t.Run("shop visit", func(t *testing.T) {
		shopVisit(t, b, s.URL(), apiEvents(s.URL(), "shop", password))
	})
	// After the shop visit, which counts every event of the site.
	t.Run("gmail identify", func(t *testing.T) {
		// The events API leaves matching data out: read the database.
		gmailIdentify(t, b, s.URL(), storeEvents(t, filepath.Join(dataDir, "trackstack.db"), "shop"))
	})
	t.Run("consent", func(t *testing.T) {
		consentVisit(t, b, s.URL()+"/try/consent/", apiEvents(s.URL(), "consent", password))
	})
}

// storeEvents reads a site's newest events from the standalone server's
// SQLite database, with what the events API does not show.
func storeEvents(t *testing.T, path, site string) events {
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return func(t *testing.T) []event.Event {
		t.Helper()
		evs, err := st.Recent(context.Background(), site, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
}

// gmailIdentify checks that an identify with a gmail address with dots and
// a +tag, and an international phone number, is stored with the digest of
// each normalization the platforms use: Meta's and Google's email, the
// phone's digits and its E.164 form.
func gmailIdentify(t *testing.T, b *browsertest.Browser, base string, read events) {
	tab := newTab(t, b)
	navigate(t, tab, base+"/")
	eval[bool](t, tab, `trackstack.identify("gmail-user", {email: " Jo.E.Smith+promo@Gmail.com ", phone: "+1 650-555-1212"}); true`)
	evs := waitFor(t, read, "the identify", func(evs []event.Event) bool {
		for _, e := range find(evs, event.TypeIdentify, "") {
			if e.UserID == "gmail-user" {
				return true
			}
		}
		return false
	})
	sha := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	want := event.User{
		EmailSHA256: sha("jo.e.smith+promo@gmail.com"), EmailGoogleSHA256: sha("joesmith@gmail.com"),
		PhoneSHA256: sha("16505551212"), PhoneE164SHA256: sha("+16505551212"),
	}
	for _, e := range find(evs, event.TypeIdentify, "") {
		if e.UserID == "gmail-user" && e.User != want {
			t.Errorf("stored user %+v\nwant %+v", e.User, want)
		}
	}
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
		navigate(t, tab, s.URL()+"/try/news/")
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

// answerAuth makes the tab answer the HTTP auth challenges the browser
// would prompt for, as a person at the browser's own prompt would: with
// credentials (fetch.AuthChallengeResponseResponseProvideCredentials) or
// by dismissing it (CancelAuth). The browser asks only when it holds no
// credentials for the challenge's realm.
func answerAuth(t *testing.T, tab *browsertest.Tab, answer fetch.AuthChallengeResponse) {
	t.Helper()
	err := chromedp.Listen(tab.Ctx, func(ev any) {
		switch ev := ev.(type) {
		case *fetch.EventAuthRequired:
			go chromedp.Call(tab.Ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{ //nolint:errcheck // the page shows the failure
				RequestID: ev.RequestID, AuthChallengeResponse: &answer,
			})
		case *fetch.EventRequestPaused:
			go chromedp.Call(tab.Ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID}) //nolint:errcheck // the page shows the failure
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	handle := true
	if _, err := chromedp.Call(tab.Ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handle}); err != nil {
		t.Fatal(err)
	}
}

// TestStandaloneAdminPage: the demo page runs the tracker and the Meta
// pixel's script, so it never asks for or keeps the admin password. The
// events are listed on a page of their own, behind the browser's own
// basic-auth prompt, that runs no script at all (its Content-Security-
// Policy says so) and that other pages of the origin cannot read with the
// credentials the browser keeps.
func TestStandaloneAdminPage(t *testing.T) {
	s := startStandalone(t, "testdata/standalone")
	b := browsertest.Start(t)
	password := string(s.Keys().AdminPassword)
	pageURL := s.URL() + "/admin/events?site=shop"

	demo := newTab(t, b)
	navigate(t, demo, s.URL()+"/")
	click(t, demo, "buy")
	evs := waitFor(t, apiEvents(s.URL(), "shop", password), "the purchase", has(event.TypeConversion, "purchase"))
	conv := find(evs, event.TypeConversion, "purchase")[0]
	if n := eval[int](t, demo, `document.querySelectorAll('input[type="password"]').length`); n != 0 {
		t.Errorf("the demo page, which runs third-party scripts, asks for a password (%d fields)", n)
	}

	admin := b.Tab(t)
	answerAuth(t, admin, fetch.AuthChallengeResponse{
		Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: "admin", Password: password,
	})
	if err := chromedp.Do(admin.Ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatal(err)
	}
	poll(t, admin, `document.body.innerText.includes(`+jsString(conv.EventID)+`)`)
	text := eval[string](t, admin, `document.body.innerText`)
	if !strings.Contains(text, "purchase") || !strings.Contains(text, "49.9 EUR") {
		t.Errorf("the events page lacks the purchase:\n%s", text)
	}
	if n := eval[int](t, admin, `document.scripts.length`); n != 0 {
		t.Errorf("the events page has %d scripts, want none", n)
	}

	// Back on the demo page, with the browser holding the admin's
	// credentials: the page's storage has no password, and its scripts
	// cannot read the events with those credentials (a prompt the browser
	// would show for them is dismissed).
	answerAuth(t, demo, fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth})
	navigate(t, demo, s.URL()+"/")
	stored := eval[string](t, demo, `JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage), document.cookie])`)
	if strings.Contains(stored, password) {
		t.Errorf("the demo page's storage holds the admin password: %s", stored)
	}
	for _, path := range []string{"/admin/events?site=shop", "/api/v1/sites/shop/events", "/metrics"} {
		js := `fetch(` + jsString(path) + `, {credentials: "include"}).then(r => r.status)`
		if code, err := chromedp.Run(demo.Ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise)); err != nil || code == http.StatusOK {
			t.Errorf("a script of the demo page read %s: %d %v", path, code, err)
		}
	}

	// The page's headers, read without a browser.
	res := get(t, pageURL, "")
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("without credentials: %d %v", res.StatusCode, res.Header)
	}
	res = get(t, pageURL, password)
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != http.StatusOK || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'none'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "http") || strings.Contains(csp, "unsafe") {
		t.Errorf("with credentials: %d, Content-Security-Policy %q", res.StatusCode, csp)
	}
}

// get fetches url, with the admin's password when one is given.
func get(t *testing.T, url, password string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if password != "" {
		req.SetBasicAuth("admin", password)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
