package tracker

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/internal/browsertest"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestInBrowser(t *testing.T) {
	b := browser(t)
	t.Run("shop visit", func(t *testing.T) { testShopVisit(t, b) })
	t.Run("consent by trackstack.consent", func(t *testing.T) { testConsentAPI(t, b) })
	t.Run("consent by Consent Mode", func(t *testing.T) { testConsentMode(t, b) })
	t.Run("consent by TCF", func(t *testing.T) { testConsentTCF(t, b) })
	t.Run("page with its own gtag", func(t *testing.T) { testGtagPage(t, b) })
	t.Run("pixel loaded by the tracker", func(t *testing.T) { testOwnPixel(t, b) })
}

// testShopVisit follows one visitor from an ad click to a form submission.
func testShopVisit(t *testing.T, b *browsertest.Browser) {
	s := newSite(t, ScriptConfig{Site: "shop", Autocapture: allOn,
		Pixels: v1alpha1.PixelsSpec{Meta: &v1alpha1.MetaPixel{PixelID: "123456789012345"}}})
	landing := s.URL + "/shop?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=abc123&fbclid=IwAR_fb"
	tab := open(t, b, landing)

	pv := s.rec.waitEvent("pageview", "pageview")
	if pv.URL != landing || pv.Title != "Shop" || !pv.Scripted || pv.Lang == "" || !strings.Contains(pv.Screen, "x") {
		t.Errorf("landing pageview %+v", pv)
	}
	wantUTM := map[string]string{"source": "google", "medium": "cpc", "campaign": "spring"}
	checkAttribution := func(e wireEvent) {
		t.Helper()
		if len(e.UTM) != 3 || e.UTM["source"] != "google" || e.UTM["medium"] != "cpc" || e.UTM["campaign"] != "spring" {
			t.Errorf("%s/%s utm %v, want %v", e.Type, e.Name, e.UTM, wantUTM)
		}
		if e.ClickIDs["gclid"] != "abc123" || e.ClickIDs["fbclid"] != "IwAR_fb" {
			t.Errorf("%s/%s click_ids %v", e.Type, e.Name, e.ClickIDs)
		}
		if e.Cookies["fbp"] != "fb.1.1700000000000.987654321" || e.Cookies["ga"] != "GA1.1.123.456" ||
			!strings.HasPrefix(e.Cookies["fbc"], "fb.1.") || !strings.HasSuffix(e.Cookies["fbc"], ".IwAR_fb") {
			t.Errorf("%s/%s cookies %v", e.Type, e.Name, e.Cookies)
		}
		if e.Consent["analytics_storage"] != "granted" || len(e.Consent) != 4 {
			t.Errorf("%s/%s consent %v", e.Type, e.Name, e.Consent)
		}
	}
	checkAttribution(pv)

	// The call queued before t.js loaded.
	if early := s.rec.waitEvent("custom", "early"); early.Props["from"] != "stub" {
		t.Errorf("replayed call has props %v", early.Props)
	}

	// SPA navigation: pushState, then replaceState to the same URL with a
	// fragment, which is no new page.
	click(t, tab, "spa")
	spa := s.rec.waitFor("SPA pageview", func(evs []wireEvent) bool {
		for _, e := range evs {
			if e.Type == "pageview" && strings.HasSuffix(e.URL, "/shop/product?id=7") {
				return true
			}
		}
		return false
	})
	for _, e := range spa {
		if e.Type == "pageview" && e.URL != landing {
			checkAttribution(e)
			if e.Referrer != landing {
				t.Errorf("SPA pageview referrer %q, want the previous page %q", e.Referrer, landing)
			}
		}
	}

	// A click on a child of a [data-ts-event] element. Events leave in
	// order, so every pageview before it has arrived by then.
	click(t, tab, "cta-inner")
	c := s.rec.waitEvent("click", "signup_click")
	if len(c.Props) != 2 || c.Props["plan"] != "pro" || c.Props["position"] != "hero" {
		t.Errorf("click props %v", c.Props)
	}
	checkAttribution(c)
	if n := s.rec.count("pageview"); n != 2 {
		t.Errorf("%d pageviews before the click, want 2 (landing and SPA): %s", n, describe(s.rec.all()))
	}

	click(t, tab, "out")
	click(t, tab, "in")
	if o := s.rec.waitEvent("click", "outbound"); o.Props["url"] != "https://partner.example.org/deal" {
		t.Errorf("outbound click props %v", o.Props)
	}

	// The JS API; the conversion also reaches the page's own Meta pixel with
	// the same event id, and no PageView is added to a pixel the page runs.
	eval[bool](t, tab, `trackstack.track("newsletter", {list: "weekly"}); trackstack.identify("user-7", {email: " Jo.E.Smith+promo@Gmail.com", phone: "0044 20 7946 0958", plan: "pro"}); trackstack.conversion({value: 49.9, currency: "EUR", order_id: "A-1001"}); true`)
	conv := s.rec.waitEvent("conversion", "purchase")
	if conv.Value == nil || *conv.Value != 49.9 || conv.Currency != "EUR" || conv.OrderID != "A-1001" {
		t.Errorf("conversion %+v", conv)
	}
	checkAttribution(conv)
	if conv.UserID != "user-7" {
		t.Errorf("conversion after identify has user_id %q", conv.UserID)
	}
	if n := s.rec.waitEvent("custom", "newsletter"); n.Props["list"] != "weekly" {
		t.Errorf("custom event props %v", n.Props)
	}
	id := s.rec.waitEvent("identify", "identify")
	// A gmail address with dots and a +tag gets Google's hash beside Meta's;
	// a phone written with 00 gets the E.164 one beside the digits.
	if id.UserID != "user-7" || id.Props["plan"] != "pro" || id.Props["email"] != nil || id.Props["phone"] != nil {
		t.Errorf("identify %+v", id)
	}
	wantIdentify := map[string]string{
		"em": sha("jo.e.smith+promo@gmail.com"), "em_google": sha("joesmith@gmail.com"),
		"ph": sha("442079460958"), "ph_e164": sha("+442079460958"),
	}
	if !maps.Equal(id.User, wantIdentify) {
		t.Errorf("identify user %v, want %v", id.User, wantIdentify)
	}
	poll(t, tab, `fbqCalls.some(c => c[1] === "Purchase")`)
	calls := eval[[][]any](t, tab, `fbqCalls`)
	if len(calls) != 1 {
		t.Errorf("page's fbq got %v, want only the Purchase", calls)
	}
	if got := calls[0]; got[0] != "track" || got[1] != "Purchase" ||
		got[2].(map[string]any)["value"] != 49.9 || got[2].(map[string]any)["order_id"] != "A-1001" ||
		got[3].(map[string]any)["eventID"] != conv.EventID {
		t.Errorf("fbq got %v, want Purchase with eventID %s", got, conv.EventID)
	}

	// The form: an event without field values, hashed fields marked for it,
	// flushed as the page is left for /thanks (a full page load that still
	// carries the landing attribution).
	click(t, tab, "submit")
	form := s.rec.waitEvent("form_submit", "form_submit")
	// Not gmail: one email hash; "+1 (650) 555-1212" has its country code,
	// so it has an E.164 form.
	wantForm := map[string]string{"em": sha("ada.lovelace@example.com"), "ph": sha("16505551212"), "ph_e164": sha("+16505551212")}
	if form.Props["id"] != "signup" || !maps.Equal(form.User, wantForm) {
		t.Errorf("form_submit %+v, want user %v", form, wantForm)
	}
	checkAttribution(form)
	thanks := s.rec.waitFor("pageview of /thanks", func(evs []wireEvent) bool {
		return len(evs) > 0 && evs[len(evs)-1].Type == "pageview" && strings.HasSuffix(evs[len(evs)-1].URL, "/thanks")
	})
	last := thanks[len(thanks)-1]
	checkAttribution(last)
	if last.UserID != "user-7" {
		t.Errorf("user id lost across pages: %+v", last)
	}
	for _, secret := range []string{"Secret-Name", "Lovelace", "lovelace", "555-1212", "5551212", "Smith", "smith", "7946", "promo"} {
		if strings.Contains(s.rec.rawBodies(), secret) {
			t.Errorf("a raw field value (%s) left the page", secret)
		}
	}
}

// consentPage opens the consent page of a site with consent mode mode and
// proves that nothing leaves it: twelve events (more than a batch) and a
// hidden page would each flush at once if the tracker were allowed to send.
func consentPage(t *testing.T, b *browsertest.Browser, mode, query string) (*site, *browsertest.Tab) {
	s := newSite(t, ScriptConfig{Site: "consent", ConsentMode: mode, Autocapture: allOn})
	tab := open(t, b, s.URL+"/consent?gclid=xyz"+query)
	poll(t, tab, `window.trackstack && !Array.isArray(trackstack.q)`)
	sent := eval[int](t, tab, `for (let i = 0; i < 12; i++) trackstack.track("queued", {i}); hidePage(); sent.length`)
	if sent != 0 || len(s.rec.all()) != 0 {
		t.Fatalf("before consent the page sent %d requests and the endpoint got %s", sent, describe(s.rec.all()))
	}
	return s, tab
}

// grant runs js, which grants consent on a consentPage, and checks that it
// put one batch on the wire: the next may leave only once the collector has
// answered, else the batches could arrive in any order and, on a first
// visit, each without the visitor cookie the first answer sets. Sending is
// synchronous in the consent call, so a second request would be counted.
func grant(t *testing.T, tab *browsertest.Tab, js string) {
	t.Helper()
	if n := eval[int](t, tab, js+"; sent.length"); n != 1 {
		t.Errorf("consent put %d requests on the wire at once, want 1", n)
	}
}

// waitReleased waits for the page view and the twelve queued events, checks
// that they arrived in the order they were made, the page view first (it
// carries the landing attribution and opens the session), and checks the
// consent state each carries. Each arrived once (site's checkOnce).
func waitReleased(t *testing.T, s *site, want map[string]string) []wireEvent {
	t.Helper()
	evs := s.rec.waitFor("events released by consent", func(evs []wireEvent) bool { return len(evs) >= 13 })
	if len(evs) != 13 || evs[0].Type != "pageview" {
		t.Fatalf("released %s, want the pageview and 12 queued events", describe(evs))
	}
	for i, e := range evs[1:] {
		if e.Type != "custom" || e.Name != "queued" || e.Props["i"] != float64(i) {
			t.Errorf("released event %d is %s/%s %v, want custom/queued {i: %d}", i+1, e.Type, e.Name, e.Props, i)
		}
	}
	for _, e := range evs {
		for k, v := range want {
			if e.Consent[k] != v {
				t.Errorf("%s/%s consent %v, want %s=%s", e.Type, e.Name, e.Consent, k, v)
			}
		}
		if e.ClickIDs["gclid"] != "xyz" {
			t.Errorf("%s/%s click_ids %v", e.Type, e.Name, e.ClickIDs)
		}
	}
	return evs
}

func testConsentAPI(t *testing.T, b *browsertest.Browser) {
	s, tab := consentPage(t, b, v1alpha1.ConsentModeOptIn, "")
	grant(t, tab, `trackstack.consent({analytics_storage: "granted", ad_storage: "granted", ad_user_data: "denied", ad_personalization: "denied"})`)
	waitReleased(t, s, map[string]string{"analytics_storage": "granted", "ad_storage": "granted", "ad_user_data": "denied", "ad_personalization": "denied"})
}

func testConsentMode(t *testing.T, b *browsertest.Browser) {
	s, tab := consentPage(t, b, v1alpha1.ConsentModeOptIn, "")
	grant(t, tab, `gtag("consent", "update", {analytics_storage: "granted", ad_user_data: "granted"})`)
	waitReleased(t, s, map[string]string{"analytics_storage": "granted", "ad_user_data": "granted", "ad_storage": "denied"})
	// Later updates are followed too.
	eval[bool](t, tab, `gtag("consent", "update", {ad_storage: "granted"}); trackstack.track("after_update"); true`)
	if e := s.rec.waitEvent("custom", "after_update"); e.Consent["ad_storage"] != "granted" || e.Consent["ad_user_data"] != "granted" {
		t.Errorf("after the update: consent %v", e.Consent)
	}
	// Denying analytics stops sending again.
	eval[bool](t, tab, `gtag("consent", "update", {analytics_storage: "denied"}); sent.length = 0; for (let i = 0; i < 12; i++) trackstack.track("denied"); hidePage(); true`)
	if n := eval[int](t, tab, `sent.length`); n != 0 {
		t.Errorf("after analytics_storage was denied the page sent %d requests", n)
	}
}

func testConsentTCF(t *testing.T, b *browsertest.Browser) {
	// optOut would send at once, but a TCF CMP on the page is waited for.
	s, tab := consentPage(t, b, v1alpha1.ConsentModeOptOut, "&tcf=1")
	poll(t, tab, `tcfListeners.length > 0`) // tcf.js has loaded and registered
	grant(t, tab, `tcfDecide({eventStatus: "useractioncomplete", gdprApplies: true, purpose: {consents: {1: true, 3: false, 4: true, 7: true}}})`)
	waitReleased(t, s, map[string]string{"analytics_storage": "granted", "ad_storage": "granted", "ad_user_data": "granted", "ad_personalization": "denied"})
}

func testGtagPage(t *testing.T, b *browsertest.Browser) {
	s := newSite(t, ScriptConfig{Site: "gtag", Autocapture: allOn, Pixels: v1alpha1.PixelsSpec{
		GA4:       &v1alpha1.GA4Pixel{MeasurementID: "G-ABCDEF1234"},
		GoogleAds: &v1alpha1.GoogleAdsPixel{ConversionID: "AW-123456789", ConversionLabel: "AbC-dEf_123"},
	}})
	tab := open(t, b, s.URL+"/gtag")
	s.rec.waitEvent("pageview", "pageview")
	eval[bool](t, tab, `trackstack.conversion({value: 10, currency: "USD", order_id: "A-2002"}); true`)
	conv := s.rec.waitEvent("conversion", "purchase")
	poll(t, tab, `gtagCalls.length >= 2`)
	calls := eval[[][]any](t, tab, `gtagCalls`)
	want := map[string]any{"transaction_id": "A-2002", "value": 10.0, "currency": "USD", "event_id": conv.EventID}
	if len(calls) != 2 || calls[0][0] != "event" || calls[0][1] != "purchase" || calls[1][1] != "conversion" {
		t.Fatalf("page's gtag got %v, want the purchase and the Ads conversion only", calls)
	}
	for k, v := range want {
		if calls[0][2].(map[string]any)[k] != v || calls[1][2].(map[string]any)[k] != v {
			t.Errorf("gtag calls %v lack %s=%v", calls, k, v)
		}
	}
	if calls[1][2].(map[string]any)["send_to"] != "AW-123456789/AbC-dEf_123" {
		t.Errorf("Ads conversion sent to %v", calls[1][2])
	}
}

func testOwnPixel(t *testing.T, b *browsertest.Browser) {
	s := newSite(t, ScriptConfig{Site: "plain", Autocapture: allOn,
		Pixels: v1alpha1.PixelsSpec{Meta: &v1alpha1.MetaPixel{PixelID: "123456789012345"}}})
	tab := open(t, b, s.URL+"/plain")
	pv := s.rec.waitEvent("pageview", "pageview")
	// The tracker installed Meta's stub and base script: it queues init and
	// the PageView with the pageview's event id until fbevents.js runs
	// (which cannot load here: tests have no internet).
	poll(t, tab, `window.fbq && fbq.queue && fbq.queue.length >= 2`)
	queue := eval[[][]any](t, tab, `fbq.queue.map(a => Array.from(a))`)
	if queue[0][0] != "init" || queue[0][1] != "123456789012345" || queue[1][1] != "PageView" ||
		queue[1][3].(map[string]any)["eventID"] != pv.EventID {
		t.Errorf("fbq queue %v, want init and PageView with eventID %s", queue, pv.EventID)
	}
	if src, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`[...document.scripts].map(s => s.src).join(" ")`)); err != nil ||
		!strings.Contains(src, "connect.facebook.net/en_US/fbevents.js") {
		t.Errorf("scripts %q, %v: fbevents.js not loaded", src, err)
	}
}
