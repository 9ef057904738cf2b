package ingest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

func TestBrowserBatchStoresEnrichedEvents(t *testing.T) {
	h := newHarness(t)
	ev := browserEvent("e-1", testNow.Add(-time.Minute))
	ev["cookies"] = map[string]any{"fbp": "fb.1.1700000000000.123", "fbc": "fb.1.1700000000000.abc", "ga": "GA1.1.123456789.1700000000"}
	ev["props"] = map[string]any{"plan": "pro", "n": 3}
	ev["user"] = map[string]any{"em": strings.Repeat("ab", 32), "em_google": strings.Repeat("cd", 32), "ph": strings.Repeat("ef", 32), "ph_e164": strings.Repeat("01", 32)}
	conv := browserEvent("e-2", testNow)
	conv["type"], conv["name"], conv["value"], conv["currency"], conv["order_id"] = "conversion", "purchase", 49.9, "eur", "A-1001"

	res := decodeResult(t, h.postBatch(batchBody("shop", ev, conv)))
	if res.Accepted != 2 || res.Duplicates != 0 || len(res.Rejected) != 0 {
		t.Fatalf("result %+v", res)
	}
	got := h.w.stored()
	if len(got) != 2 {
		t.Fatalf("stored %d events", len(got))
	}
	e := got[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"site", e.Site, "shop"},
		{"source", e.Source, event.SourceBrowser},
		{"type", e.Type, event.TypePageview},
		{"timestamp", e.Timestamp, testNow.Add(-time.Minute)},
		{"received", e.ReceivedAt, testNow},
		{"ip", e.IP, "203.0.113.0"},
		{"raw ip", e.RawIP, "203.0.113.77"},
		{"channel", e.Channel, event.ChannelPaidSearch},
		{"gclid", e.ClickIDs["gclid"], "abc"},
		{"utm", e.UTM, event.UTM{Source: "google", Medium: "cpc", Campaign: "winter"}},
		{"device", e.Device, event.Device{Browser: "Chrome", OS: "Windows", Type: "desktop"}},
		{"fbp", e.FBP, "fb.1.1700000000000.123"},
		{"ga", e.GAClientID, "123456789.1700000000"},
		{"props", string(e.Properties), `{"n":3,"plan":"pro"}`},
		{"email digest", e.User.EmailSHA256, strings.Repeat("ab", 32)},
		{"google email digest", e.User.EmailGoogleSHA256, strings.Repeat("cd", 32)},
		{"phone digest", e.User.PhoneSHA256, strings.Repeat("ef", 32)},
		{"e164 phone digest", e.User.PhoneE164SHA256, strings.Repeat("01", 32)},
		{"screen", e.Screen, "1920x1080"},
		{"lang", e.Language, "en-US"},
		{"consent", e.Consent.AnalyticsStorage, event.Granted},
		{"user agent", e.UserAgent, testUA},
		{"conversion currency", got[1].Currency, "EUR"},
		{"conversion value", *got[1].Value, 49.9},
		{"same visitor", got[1].VisitorID, e.VisitorID},
		{"same session", got[1].SessionID, e.SessionID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(e.VisitorID) != 32 || len(e.SessionID) != 16 {
		t.Errorf("visitor %q session %q", e.VisitorID, e.SessionID)
	}
}

func TestBrowserCORS(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		origin     string
		wantStatus int
		wantCORS   bool
	}{
		{"site origin", http.MethodPost, "https://shop.example.com", http.StatusOK, true},
		{"subdomain origin", http.MethodPost, "https://m.shop.example.com", http.StatusOK, true},
		{"origin with port", http.MethodPost, "http://shop.example.com:8080", http.StatusOK, true},
		{"foreign origin", http.MethodPost, "https://evil.example.net", http.StatusForbidden, false},
		{"lookalike origin", http.MethodPost, "https://shop.example.com.evil.net", http.StatusForbidden, false},
		{"suffix lookalike", http.MethodPost, "https://badshop.example.com", http.StatusForbidden, false},
		{"null origin", http.MethodPost, "null", http.StatusForbidden, false},
		{"no origin", http.MethodPost, "", http.StatusOK, false},
		{"preflight allowed", http.MethodOptions, "https://shop.example.com", http.StatusNoContent, true},
		{"preflight foreign", http.MethodOptions, "https://evil.example.net", http.StatusForbidden, false},
		{"preflight without origin", http.MethodOptions, "", http.StatusForbidden, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var body []byte
			if tt.method == http.MethodPost {
				body = batchBody("shop", browserEvent(fmt.Sprintf("c-%d", i), testNow))
			}
			rec := h.do(tt.method, "/_ts/e", body, withHeader("Origin", tt.origin))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			acao := rec.Header().Get("Access-Control-Allow-Origin")
			if tt.wantCORS {
				if acao != tt.origin || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
					t.Fatalf("CORS headers %v", rec.Header())
				}
				if rec.Header().Get("Vary") != "Origin" {
					t.Errorf("Vary = %q", rec.Header().Get("Vary"))
				}
			} else if acao != "" || rec.Header().Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("unexpected CORS headers %v", rec.Header())
			}
			if tt.method == http.MethodOptions && tt.wantCORS {
				if !strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "POST") {
					t.Errorf("Allow-Methods = %q", rec.Header().Get("Access-Control-Allow-Methods"))
				}
			}
		})
	}
}

func TestBrowserOriginOfAnotherSiteOnTheSamePath(t *testing.T) {
	h := newHarness(t, withSites(testSite("shop"), testSite("blog")))
	rec := h.postBatch(batchBody("shop", browserEvent("x", testNow)), withHeader("Origin", "https://blog.example.com"))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS headers on a refused origin")
	}
	// The same origin may post its own site's events.
	rec = h.postBatch(batchBody("blog", browserEvent("y", testNow)), withHeader("Origin", "https://blog.example.com"))
	if res := decodeResult(t, rec); res.Accepted != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestBrowserBadRequests(t *testing.T) {
	valid := browserEvent("b-1", testNow)
	wrongValue := browserEvent("b-4", testNow)
	wrongValue["value"] = "12.5"
	big := browserEvent("big", testNow)
	big["props"] = map[string]any{"x": strings.Repeat("a", MaxBrowserBody)}
	tooMany := make([]map[string]any, MaxBrowserEvents+1)
	for i := range tooMany {
		tooMany[i] = browserEvent(fmt.Sprint("m", i), testNow)
	}
	tests := []struct {
		name       string
		method     string
		target     string
		body       []byte
		wantStatus int
		wantMsg    string
	}{
		{"broken json", http.MethodPost, "/_ts/e", []byte(`{"site":"shop","events":[`), http.StatusBadRequest, "body is not valid JSON"},
		{"not an object", http.MethodPost, "/_ts/e", []byte(`[1,2]`), http.StatusBadRequest, "body: expected object, got array"},
		{"site wrong type", http.MethodPost, "/_ts/e", []byte(`{"site":1,"events":[]}`), http.StatusBadRequest, "site: expected string, got number"},
		{"site missing", http.MethodPost, "/_ts/e", []byte(`{"events":[{}]}`), http.StatusBadRequest, "site: required"},
		{"events missing", http.MethodPost, "/_ts/e", []byte(`{"site":"shop"}`), http.StatusBadRequest, "events: required"},
		{"events not array", http.MethodPost, "/_ts/e", []byte(`{"site":"shop","events":{}}`), http.StatusBadRequest, "events: expected array, got object"},
		{"events empty", http.MethodPost, "/_ts/e", []byte(`{"site":"shop","events":[]}`), http.StatusBadRequest, "events: empty"},
		{"event not object", http.MethodPost, "/_ts/e", []byte(`{"site":"shop","events":[{},"x"]}`), http.StatusBadRequest, "events[1]: expected object, got string"},
		{"value wrong type", http.MethodPost, "/_ts/e", batchBody("shop", valid, valid, valid, wrongValue), http.StatusBadRequest, "events[3].value: expected number, got string"},
		{"nested wrong type", http.MethodPost, "/_ts/e", []byte(`{"site":"shop","events":[{"utm":{"source":7}}]}`), http.StatusBadRequest, "events[0].utm.source: expected string, got number"},
		{"props wrong type", http.MethodPost, "/_ts/e", []byte(`{"site":"shop","events":[{"props":[1]}]}`), http.StatusBadRequest, "events[0].props: expected object, got array"},
		{"scripted wrong type", http.MethodPost, "/_ts/e", []byte(`{"site":"shop","events":[{"scripted":"yes"}]}`), http.StatusBadRequest, "events[0].scripted: expected boolean, got string"},
		{"too many events", http.MethodPost, "/_ts/e", batchBody("shop", tooMany...), http.StatusBadRequest, "events: more than 50 events"},
		{"too large", http.MethodPost, "/_ts/e", batchBody("shop", big), http.StatusRequestEntityTooLarge, "body too large"},
		{"unknown site", http.MethodPost, "/_ts/e", batchBody("nope", valid), http.StatusNotFound, `unknown site "nope"`},
		{"wrong method", http.MethodGet, "/_ts/e", nil, http.StatusMethodNotAllowed, "method not allowed"},
		{"unknown path", http.MethodPost, "/other/e", batchBody("shop", valid), http.StatusNotFound, ""},
		{"post to a script name", http.MethodPost, "/_ts/x", batchBody("shop", valid), http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rec := h.do(tt.method, tt.target, tt.body, withHeader("Origin", testOrigin))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantMsg != "" {
				if msg := errorMessage(t, rec); !strings.Contains(msg, tt.wantMsg) {
					t.Fatalf("error %q, want it to contain %q", msg, tt.wantMsg)
				}
			}
			if n := len(h.w.stored()); n != 0 {
				t.Fatalf("%d events stored from a refused request", n)
			}
		})
	}
}

func TestBrowserPartialRejection(t *testing.T) {
	h := newHarness(t)
	old := browserEvent("old", testNow.Add(-MaxEventAge-time.Minute))
	future := browserEvent("future", testNow.Add(MaxClockSkew+time.Minute))
	noID := browserEvent("", testNow)
	badType := browserEvent("badtype", testNow)
	badType["type"] = "teleport"
	badCurrency := browserEvent("badcur", testNow)
	badCurrency["currency"] = "EURO"
	negative := browserEvent("neg", testNow)
	negative["value"] = -5
	bigProps := browserEvent("props", testNow)
	bigProps["props"] = map[string]any{"x": strings.Repeat("a", 5000)}
	spaceID := browserEvent("has space", testNow)
	edgeOld := browserEvent("edge-old", testNow.Add(-MaxEventAge+time.Second))
	edgeFuture := browserEvent("edge-future", testNow.Add(MaxClockSkew))

	res := decodeResult(t, h.postBatch(batchBody("shop",
		browserEvent("ok-1", testNow), old, future, noID, badType, badCurrency, negative, bigProps, spaceID,
		edgeOld, edgeFuture)))
	want := []rejection{
		{1, "old", ReasonTooOld, ""},
		{2, "future", ReasonInFuture, ""},
		{3, "", ReasonInvalid, "event_id: required"},
		{4, "badtype", ReasonInvalid, ""},
		{5, "badcur", ReasonInvalid, "currency"},
		{6, "neg", ReasonInvalid, "value"},
		{7, "props", ReasonInvalid, "props: larger than 4 KiB"},
		{8, "has space", ReasonInvalid, "event_id"},
	}
	if res.Accepted != 3 || len(res.Rejected) != len(want) {
		t.Fatalf("result %+v", res)
	}
	for i, w := range want {
		g := res.Rejected[i]
		if g.Index != w.Index || g.EventID != w.EventID || g.Reason != w.Reason || !strings.Contains(g.Detail, w.Detail) {
			t.Errorf("rejected[%d] = %+v, want %+v", i, g, w)
		}
	}
	ids := map[string]bool{}
	for _, e := range h.w.stored() {
		ids[e.EventID] = true
	}
	if len(ids) != 3 || !ids["ok-1"] || !ids["edge-old"] || !ids["edge-future"] {
		t.Fatalf("stored %v", ids)
	}
	if got := counter(t, h, "trackstack_ingest_events_rejected_total", map[string]string{"site": "shop", "reason": ReasonInvalid}); got != 6 {
		t.Errorf("rejected{invalid} = %v, want 6", got)
	}
	if got := counter(t, h, "trackstack_ingest_events_rejected_total", map[string]string{"reason": ReasonTooOld}); got != 1 {
		t.Errorf("rejected{too_old} = %v, want 1", got)
	}
}

func TestBrowserDuplicatesFromWriter(t *testing.T) {
	h := newHarness(t)
	body := batchBody("shop", browserEvent("d-1", testNow), browserEvent("d-2", testNow))
	if res := decodeResult(t, h.postBatch(body)); res.Accepted != 2 || res.Duplicates != 0 {
		t.Fatalf("first: %+v", res)
	}
	// A retried batch is stored once; the answer says so.
	if res := decodeResult(t, h.postBatch(body)); res.Accepted != 0 || res.Duplicates != 2 {
		t.Fatalf("retry: %+v", res)
	}
	if n := len(h.w.stored()); n != 2 {
		t.Fatalf("stored %d", n)
	}
	if got := counter(t, h, "trackstack_ingest_events_duplicate_total", map[string]string{"source": "browser"}); got != 2 {
		t.Errorf("duplicates metric %v", got)
	}
}

func TestBrowserBots(t *testing.T) {
	tests := []struct {
		name   string
		ua     string
		mutate func(map[string]any)
	}{
		{"crawler user agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", nil},
		{"http library", "python-requests/2.32.3", nil},
		{"headless chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", nil},
		{"empty user agent", "", nil},
		{"script never ran", testUA, func(e map[string]any) { delete(e, "scripted") }},
		{"scripted false", testUA, func(e map[string]any) { e["scripted"] = false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ev := browserEvent("bot-1", testNow)
			if tt.mutate != nil {
				tt.mutate(ev)
			}
			rec := h.postBatch(batchBody("shop", ev), withHeader("User-Agent", tt.ua))
			// Bots are told their events were accepted, and nothing is stored.
			if res := decodeResult(t, rec); res.Accepted != 1 || len(res.Rejected) != 0 {
				t.Fatalf("result %+v", res)
			}
			if n := len(h.w.stored()); n != 0 {
				t.Fatalf("stored %d bot events", n)
			}
			if got := counter(t, h, "trackstack_ingest_events_rejected_total", map[string]string{"reason": ReasonBot}); got != 1 {
				t.Fatalf("rejected{bot} = %v", got)
			}
		})
	}
}

func TestBrowserBotPaceRule(t *testing.T) {
	l := unlimited()
	l.BotEventsPerSecond, l.BotBurst = 1, MaxBrowserEvents
	h := newHarness(t, withLimits(l))
	evs := make([]map[string]any, MaxBrowserEvents)
	for i := range evs {
		evs[i] = browserEvent(fmt.Sprint("p-", i), testNow)
	}
	if res := decodeResult(t, h.postBatch(batchBody("shop", evs...))); res.Accepted != MaxBrowserEvents {
		t.Fatalf("first batch %+v", res)
	}
	// The clock stands still: a second full batch in the same instant is
	// faster than any person.
	res := decodeResult(t, h.postBatch(batchBody("shop", browserEvent("p-more", testNow))))
	if res.Accepted != 1 {
		t.Fatalf("second batch %+v", res)
	}
	if n := len(h.w.stored()); n != MaxBrowserEvents {
		t.Fatalf("stored %d, want %d", n, MaxBrowserEvents)
	}
	// Another IP is unaffected.
	res = decodeResult(t, h.postBatch(batchBody("shop", browserEvent("p-other", testNow)), withRemote("198.51.100.1:1")))
	if res.Accepted != 1 || len(h.w.stored()) != MaxBrowserEvents+1 {
		t.Fatalf("other IP: %+v, stored %d", res, len(h.w.stored()))
	}
}

func TestBrowserRateLimitPerIP(t *testing.T) {
	l := unlimited()
	l.IPRequestsPerSecond, l.IPBurst = 1, 2
	h := newHarness(t, withLimits(l))
	for i := range 2 {
		if rec := h.postBatch(batchBody("shop", browserEvent(fmt.Sprint("r", i), testNow))); rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	rec := h.postBatch(batchBody("shop", browserEvent("r3", testNow)))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d", rec.Code)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q", ra)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != testOrigin {
		t.Error("429 without CORS headers: the tracker could not read it")
	}
	// Other clients are not limited, and a second later the bucket refills.
	if rec := h.postBatch(batchBody("shop", browserEvent("r4", testNow)), withRemote("198.51.100.9:1")); rec.Code != http.StatusOK {
		t.Fatalf("other IP: %d", rec.Code)
	}
	h.clock.set(testNow.Add(time.Second))
	if rec := h.postBatch(batchBody("shop", browserEvent("r5", testNow))); rec.Code != http.StatusOK {
		t.Fatalf("after refill: %d", rec.Code)
	}
	if got := counter(t, h, "trackstack_ingest_requests_total", map[string]string{"source": "browser", "code": "429"}); got != 1 {
		t.Errorf("requests{429} = %v", got)
	}
}

func TestBrowserRateLimitIPv6GroupsBy64(t *testing.T) {
	l := unlimited()
	l.IPRequestsPerSecond, l.IPBurst = 1, 1
	h := newHarness(t, withLimits(l))
	if rec := h.postBatch(batchBody("shop", browserEvent("v1", testNow)), withRemote("[2001:db8:1:2::1]:1")); rec.Code != http.StatusOK {
		t.Fatalf("first: %d", rec.Code)
	}
	if rec := h.postBatch(batchBody("shop", browserEvent("v2", testNow)), withRemote("[2001:db8:1:2::ffff]:1")); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("same /64: %d", rec.Code)
	}
	if rec := h.postBatch(batchBody("shop", browserEvent("v3", testNow)), withRemote("[2001:db8:1:3::1]:1")); rec.Code != http.StatusOK {
		t.Fatalf("other /64: %d", rec.Code)
	}
}

func TestBrowserRateLimitPerSite(t *testing.T) {
	l := unlimited()
	l.BrowserEventsPerSecond, l.BrowserBurst = 10, MaxBrowserEvents
	h := newHarness(t, withLimits(l), withSites(testSite("shop"), testSite("blog")))
	evs := make([]map[string]any, MaxBrowserEvents)
	for i := range evs {
		evs[i] = browserEvent(fmt.Sprint("s-", i), testNow)
	}
	if rec := h.postBatch(batchBody("shop", evs...)); rec.Code != http.StatusOK {
		t.Fatalf("first: %d", rec.Code)
	}
	rec := h.postBatch(batchBody("shop", browserEvent("s-x", testNow)), withRemote("198.51.100.2:1"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	// The other site has its own bucket.
	rec = h.postBatch(batchBody("blog", browserEvent("b-x", testNow)), withHeader("Origin", "https://blog.example.com"))
	if rec.Code != http.StatusOK {
		t.Fatalf("other site: %d", rec.Code)
	}
}

func TestBrowserStoreUnavailable(t *testing.T) {
	h := newHarness(t)
	h.w.err = fmt.Errorf("batch writer: %w", store.ErrUnavailable)
	rec := h.postBatch(batchBody("shop", browserEvent("u-1", testNow)))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec.Header().Get("Set-Cookie") != "" {
		t.Error("cookie set on a failed request")
	}
	if got := counter(t, h, "trackstack_ingest_events_rejected_total", map[string]string{"reason": ReasonUnavailable}); got != 1 {
		t.Errorf("rejected{unavailable} = %v", got)
	}
	h.w.err = errors.New("disk on fire")
	if rec := h.postBatch(batchBody("shop", browserEvent("u-2", testNow))); rec.Code != http.StatusInternalServerError {
		t.Fatalf("other error: %d", rec.Code)
	}
}

func TestBrowserTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     string
		wantRaw string
	}{
		{"no proxies ignores header", nil, "10.0.0.5:1", "198.51.100.7", "10.0.0.5"},
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.0.0.5:1", "198.51.100.7", "198.51.100.7"},
		{"right-most untrusted wins", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.0.0.5:1", "1.2.3.4, 198.51.100.7, 10.1.1.1", "198.51.100.7"},
		{"untrusted remote ignores header", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "192.0.2.1:1", "198.51.100.7", "192.0.2.1"},
		{"garbage stops the walk", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.0.0.5:1", "198.51.100.7, nonsense", "10.0.0.5"},
		{"ipv6 client", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.0.0.5:1", "2001:db8::7", "2001:db8::7"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.TrustedProxies = tt.trusted })
			decodeResult(t, h.postBatch(batchBody("shop", browserEvent(fmt.Sprint("x", i), testNow)), withRemote(tt.remote), withHeader("X-Forwarded-For", tt.xff)))
			if got := h.w.stored()[0].RawIP; got != tt.wantRaw {
				t.Fatalf("client IP %q, want %q", got, tt.wantRaw)
			}
		})
	}
}

func TestPixel(t *testing.T) {
	h := newHarness(t)
	d := base64.RawURLEncoding.EncodeToString(batchBody("shop", browserEvent("px-1", testNow)))
	rec := h.do(http.MethodGet, "/_ts/p.gif?d="+d, nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/gif" || rec.Body.Len() != len(pixelGIF) {
		t.Fatalf("status %d, type %q, %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
	if !strings.HasPrefix(rec.Header().Get("Set-Cookie"), CookieName+"=") {
		t.Errorf("no visitor cookie on the pixel")
	}
	if got := h.w.stored(); len(got) != 1 || got[0].EventID != "px-1" {
		t.Fatalf("stored %+v", got)
	}
	// Bad input still gets the image, and nothing is stored.
	for _, target := range []string{
		"/_ts/p.gif",
		"/_ts/p.gif?d=!!!",
		"/_ts/p.gif?d=" + base64.RawURLEncoding.EncodeToString([]byte(`{"site":`)),
		"/_ts/p.gif?d=" + base64.RawURLEncoding.EncodeToString(batchBody("nope", browserEvent("px-2", testNow))),
	} {
		rec := h.do(http.MethodGet, target, nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/gif" {
			t.Errorf("%s: status %d", target, rec.Code)
		}
	}
	if n := len(h.w.stored()); n != 1 {
		t.Fatalf("stored %d", n)
	}
	if got := counter(t, h, "trackstack_ingest_requests_total", map[string]string{"code": "400"}); got != 3 {
		t.Errorf("requests{400} = %v", got)
	}
	if rec := h.do(http.MethodPost, "/_ts/p.gif", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST pixel: %d", rec.Code)
	}
}

// TestPixelKeepsTheOriginRuleAndIgnoresHEAD: the pixel stores nothing that
// the POST endpoint would refuse, and a HEAD (link checkers, prefetchers)
// stores nothing at all.
func TestPixelKeepsTheOriginRuleAndIgnoresHEAD(t *testing.T) {
	h := newHarness(t)
	d := func(id string) string {
		return "/_ts/p.gif?d=" + base64.RawURLEncoding.EncodeToString(batchBody("shop", browserEvent(id, testNow)))
	}
	for _, tc := range []struct {
		name, method, origin, id string
	}{
		{"foreign origin", http.MethodGet, "https://evil.example.net", "px-foreign"},
		{"HEAD", http.MethodHead, "", "px-head"},
		{"HEAD from the site", http.MethodHead, testOrigin, "px-head-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOption
			if tc.origin != "" {
				opts = append(opts, withHeader("Origin", tc.origin))
			}
			rec := h.do(tc.method, d(tc.id), nil, opts...)
			if rec.Header().Get("Content-Type") != "image/gif" {
				t.Errorf("no GIF: %d %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			if rec.Header().Get("Set-Cookie") != "" {
				t.Error("a visitor cookie was set for an event that was not stored")
			}
		})
	}
	if got := h.w.stored(); len(got) != 0 {
		t.Fatalf("stored %d events; want none", len(got))
	}
	if got := counter(t, h, "trackstack_ingest_requests_total", map[string]string{"code": "403"}); got != 1 {
		t.Errorf("requests{403} = %v, want the foreign origin counted", got)
	}
	// The site's own origin still counts.
	if rec := h.do(http.MethodGet, d("px-own"), nil, withHeader("Origin", testOrigin)); rec.Code != http.StatusOK || len(h.w.stored()) != 1 {
		t.Errorf("the site's own origin: %d, %d stored", rec.Code, len(h.w.stored()))
	}
}
