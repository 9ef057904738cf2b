package ingest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
)

// visitorCookie returns the _tsv cookie a response sets, or nil.
func visitorCookie(t *testing.T, header http.Header) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: header}).Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	return nil
}

func TestVisitorCookieAttributes(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		mutate  func(*config.Runtime)
		wantAge time.Duration
	}{
		{"site host", "shop.example.com", nil, FirstPartyCookieAge},
		{"subdomain of site", "t.shop.example.com", nil, FirstPartyCookieAge},
		{"first-party host setting", "collect.shop-cdn.net", func(c *config.Runtime) { c.Tracker.FirstPartyHost = "collect.shop-cdn.net" }, FirstPartyCookieAge},
		{"host with port", "shop.example.com:8443", nil, FirstPartyCookieAge},
		{"third-party host", "collector.trackstack.example.net", nil, OtherCookieAge},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := testSite("shop")
			if tt.mutate != nil {
				tt.mutate(site.Config)
			}
			h := newHarness(t, withSites(site))
			rec := h.postBatch(batchBody("shop", browserEvent(fmt.Sprint("c", i), testNow)), withHost(tt.host))
			decodeResult(t, rec)
			c := visitorCookie(t, rec.Header())
			if c == nil {
				t.Fatalf("no cookie in %v", rec.Header())
			}
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("cookie attributes %+v", c)
			}
			if time.Duration(c.MaxAge)*time.Second != tt.wantAge {
				t.Errorf("Max-Age %ds, want %v", c.MaxAge, tt.wantAge)
			}
			id, sig, ok := strings.Cut(c.Value, ".")
			if !ok || len(id) != 32 || sig == "" {
				t.Errorf("cookie value %q is not a signed id", c.Value)
			}
			if got := h.w.stored()[0].VisitorID; got != id {
				t.Errorf("visitor id %q, cookie id %q", got, id)
			}
		})
	}
}

func TestVisitorCookieIsKeptAndForgeriesReplaced(t *testing.T) {
	h := newHarness(t)
	rec := h.postBatch(batchBody("shop", browserEvent("k-1", testNow)))
	first := visitorCookie(t, rec.Header())
	id := h.w.stored()[0].VisitorID

	// The browser sends the cookie back: same visitor, cookie refreshed.
	rec = h.postBatch(batchBody("shop", browserEvent("k-2", testNow)), withCookie(&http.Cookie{Name: CookieName, Value: first.Value}))
	if got := h.w.stored()[1].VisitorID; got != id {
		t.Fatalf("returning visitor got %q, want %q", got, id)
	}
	if c := visitorCookie(t, rec.Header()); c == nil || c.Value != first.Value {
		t.Fatalf("cookie not refreshed: %v", c)
	}

	// Another id under the real signature: change the id's last digit.
	other := id[:31] + "0"
	if other == id {
		other = id[:31] + "1"
	}
	forged := []string{
		strings.Repeat("a", 32),                     // unsigned
		strings.Repeat("a", 32) + "." + "AAAAAAAAA", // bad signature
		other + "." + strings.SplitN(first.Value, ".", 2)[1],
		"garbage",
	}
	for i, v := range forged {
		rec = h.postBatch(batchBody("shop", browserEvent(fmt.Sprint("f-", i), testNow)), withCookie(&http.Cookie{Name: CookieName, Value: v}))
		evs := h.w.stored()
		got := evs[len(evs)-1].VisitorID
		if got == strings.Repeat("a", 32) || got == other || got == id {
			t.Fatalf("forged cookie %q accepted as %q", v, got)
		}
		if c := visitorCookie(t, rec.Header()); c == nil || c.Value == v {
			t.Fatalf("forged cookie %q not replaced", v)
		}
	}
}

func TestUnsignedCookiesWithoutSigningKey(t *testing.T) {
	site := testSite("shop")
	site.SigningKey = nil
	h := newHarness(t, withSites(site))
	rec := h.postBatch(batchBody("shop", browserEvent("n-1", testNow)))
	c := visitorCookie(t, rec.Header())
	if c == nil || len(c.Value) != 32 || strings.Contains(c.Value, ".") {
		t.Fatalf("cookie %v", c)
	}
	h.postBatch(batchBody("shop", browserEvent("n-2", testNow)), withCookie(c))
	if evs := h.w.stored(); evs[0].VisitorID != evs[1].VisitorID {
		t.Fatalf("visitor changed: %q, %q", evs[0].VisitorID, evs[1].VisitorID)
	}
}

func TestCookielessIDsRotateDaily(t *testing.T) {
	site := testSite("shop", func(c *config.Runtime) { c.Tracker.Cookieless = true })
	h := newHarness(t, withSites(site))
	post := func(id string, at time.Time, opts ...reqOption) string {
		t.Helper()
		h.clock.set(at)
		rec := h.postBatch(batchBody("shop", browserEvent(id, at)), opts...)
		decodeResult(t, rec)
		if c := visitorCookie(t, rec.Header()); c != nil {
			t.Fatalf("cookieless site set a cookie: %v", c)
		}
		evs := h.w.stored()
		return evs[len(evs)-1].VisitorID
	}
	morning := post("m", testNow)
	if len(morning) != 32 {
		t.Fatalf("visitor id %q", morning)
	}
	if got := post("e", testNow.Add(13*time.Hour+59*time.Minute)); got != morning {
		t.Fatalf("same day, different id: %q vs %q", got, morning)
	}
	if got := post("other-ip", testNow, withRemote("198.51.100.3:1")); got == morning {
		t.Fatal("another IP got the same id")
	}
	if got := post("other-ua", testNow, withHeader("User-Agent", testUA+" Edg/131")); got == morning {
		t.Fatal("another user agent got the same id")
	}
	// A cookie sent anyway is ignored.
	if got := post("cookie", testNow, withCookie(&http.Cookie{Name: CookieName, Value: strings.Repeat("b", 32)})); got != morning {
		t.Fatalf("cookie changed a cookieless id: %q", got)
	}
	nextDay := time.Date(2026, 11, 24, 0, 0, 1, 0, time.UTC)
	if got := post("n", nextDay); got == morning {
		t.Fatal("id did not rotate at midnight UTC")
	}
	// Same inputs on another site give another id.
	h2 := newHarness(t, withSites(testSite("blog", func(c *config.Runtime) { c.Tracker.Cookieless = true })))
	decodeResult(t, h2.postBatch(batchBody("blog", browserEvent("b", testNow)), withHeader("Origin", "https://blog.example.com")))
	if got := h2.w.stored()[0].VisitorID; got == morning {
		t.Fatal("two sites share a cookieless id")
	}
}

func TestConsentDecidesTheCookie(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		analytics  any
		wantCookie bool
	}{
		{"none mode, no signal", "none", nil, true},
		{"none mode, denied", "none", event.Denied, false},
		{"optOut mode, granted", "optOut", event.Granted, true},
		{"optOut mode, denied", "optOut", event.Denied, false},
		{"optIn mode, no signal", "optIn", nil, false},
		{"optIn mode, granted", "optIn", event.Granted, true},
		{"optIn mode, denied", "optIn", event.Denied, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withSites(testSite("shop", func(c *config.Runtime) { c.Tracker.ConsentMode = tt.mode })))
			ev := browserEvent(fmt.Sprint("cs", i), testNow)
			consent := map[string]any{}
			if tt.analytics != nil {
				consent["analytics_storage"] = tt.analytics
			}
			ev["consent"] = consent
			rec := h.postBatch(batchBody("shop", ev))
			decodeResult(t, rec)
			if got := visitorCookie(t, rec.Header()) != nil; got != tt.wantCookie {
				t.Fatalf("cookie set = %v, want %v", got, tt.wantCookie)
			}
			if id := h.w.stored()[0].VisitorID; len(id) != 32 {
				t.Fatalf("visitor id %q", id)
			}
		})
	}
}

func TestSessionRollover(t *testing.T) {
	h := newHarness(t)
	var cookie *http.Cookie
	post := func(id string, at time.Time, mutate func(map[string]any)) event.Event {
		t.Helper()
		h.clock.set(at)
		ev := browserEvent(id, at)
		if mutate != nil {
			mutate(ev)
		}
		var opts []reqOption
		if cookie != nil {
			opts = append(opts, withCookie(cookie))
		}
		rec := h.postBatch(batchBody("shop", ev), opts...)
		decodeResult(t, rec)
		cookie = visitorCookie(t, rec.Header())
		evs := h.w.stored()
		return evs[len(evs)-1]
	}
	internal := func(e map[string]any) {
		delete(e, "utm")
		delete(e, "click_ids")
		e["referrer"] = "https://shop.example.com/"
	}
	first := post("s1", testNow, nil)
	second := post("s2", testNow.Add(29*time.Minute), internal)
	if second.SessionID != first.SessionID {
		t.Fatalf("29 minutes later: new session %q vs %q", second.SessionID, first.SessionID)
	}
	// An internal page view inherits the session's channel.
	if second.Channel != event.ChannelPaidSearch {
		t.Errorf("internal page view channel %q, want the session's %q", second.Channel, event.ChannelPaidSearch)
	}
	// Inactivity is measured from the last event, not the first.
	third := post("s3", testNow.Add(29*time.Minute+SessionTimeout), internal)
	if third.SessionID != first.SessionID {
		t.Fatalf("exactly 30 minutes after the last event: new session")
	}
	fourth := post("s4", testNow.Add(29*time.Minute+2*SessionTimeout+time.Second), internal)
	if fourth.SessionID == first.SessionID {
		t.Fatal("more than 30 minutes idle: same session")
	}
	if fourth.Channel != event.ChannelDirect {
		t.Errorf("new session without a touch: channel %q", fourth.Channel)
	}
	if fourth.VisitorID != first.VisitorID {
		t.Fatal("visitor changed")
	}
	// The id is derived from the session start, so it is reproducible.
	if want := sessionID("shop", first.VisitorID, testNow); first.SessionID != want {
		t.Errorf("session id %q, want %q", first.SessionID, want)
	}
}

func TestSessionsAreBounded(t *testing.T) {
	s := newSessions(3)
	for i := range 10 {
		s.touch("shop", fmt.Sprint("v", i), testNow, event.ChannelDirect, false, true)
	}
	if n := s.lru.Len(); n != 3 {
		t.Fatalf("sessions hold %d visitors", n)
	}
}

func TestSessionTouchServerEvents(t *testing.T) {
	s := newSessions(10)
	if id, _ := s.touch("shop", "v", testNow, "", false, false); id != "" {
		t.Fatalf("a server event opened session %q", id)
	}
	open, _ := s.touch("shop", "v", testNow, event.ChannelEmail, true, true)
	id, ch := s.touch("shop", "v", testNow.Add(10*time.Minute), "", false, false)
	if id != open || ch != event.ChannelEmail {
		t.Fatalf("server event in open session: %q %q", id, ch)
	}
	// The server event did not extend the session.
	if id, _ := s.touch("shop", "v", testNow.Add(35*time.Minute), "", false, false); id != "" {
		t.Fatalf("server event extended the session: %q", id)
	}
	// A straggler from hours before gets its own session and leaves the
	// open one alone.
	old, _ := s.touch("shop", "v", testNow.Add(-3*time.Hour), event.ChannelDirect, false, true)
	if old == "" || old == open {
		t.Fatalf("straggler session %q", old)
	}
	if id, _ := s.touch("shop", "v", testNow.Add(time.Minute), "", false, true); id != open {
		t.Fatal("straggler disturbed the open session")
	}
}
