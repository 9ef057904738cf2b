package auth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSessionCookies(t *testing.T) {
	keys := writeKeys(t, testKey)
	tests := []struct {
		name string
		// cookie turns a valid session cookie of site "shop" into the one sent.
		cookie func(t *testing.T, f *fixture, valid *http.Cookie) *http.Cookie
		// before runs after sign-in, before the request.
		before func(f *fixture)
		want   int
	}{
		{name: "valid", cookie: keep, want: 200},
		{name: "used within the idle limit for days", before: func(f *fixture) { f.clock.Advance(SessionIdle - time.Minute) }, cookie: keep, want: 200},
		{name: "tampered mac", cookie: func(_ *testing.T, _ *fixture, c *http.Cookie) *http.Cookie {
			return withValue(c, c.Value[:len(c.Value)-2]+"AA")
		}, want: 303},
		{name: "tampered session id", cookie: func(_ *testing.T, _ *fixture, c *http.Cookie) *http.Cookie {
			p := strings.Split(c.Value, ".")
			p[2] = randomToken()
			return withValue(c, strings.Join(p, "."))
		}, want: 303},
		{name: "tampered expiry", cookie: func(_ *testing.T, _ *fixture, c *http.Cookie) *http.Cookie {
			p := strings.Split(c.Value, ".")
			p[3] = "99999999999"
			return withValue(c, strings.Join(p, "."))
		}, want: 303},
		{name: "idle too long", before: func(f *fixture) { f.clock.Advance(SessionIdle) }, cookie: keep, want: 303},
		{name: "past the maximum age", cookie: keep, before: func(f *fixture) {
			for range 16 { // 16 × 11 h > 7 days; keep it busy, so only the absolute limit ends it
				f.clock.Advance(SessionIdle - time.Hour)
				f.a.sessions.touch(f.a.sessionIDForTest(), "shop", f.clock.Now())
			}
		}, want: 303},
		{name: "signed with another key", cookie: func(_ *testing.T, f *fixture, c *http.Cookie) *http.Cookie {
			other := cookieSigner{key: deriveKey([]byte("another signing key of 32 bytes!"), "dashboard-session")}
			return withValue(c, other.sign("shop", f.a.sessionIDForTest(), f.clock.Now().Add(time.Hour)))
		}, want: 303},
		{name: "signed with the raw signing key (a visitor-cookie key)", cookie: func(_ *testing.T, f *fixture, c *http.Cookie) *http.Cookie {
			raw := cookieSigner{key: []byte(testKey)}
			return withValue(c, raw.sign("shop", f.a.sessionIDForTest(), f.clock.Now().Add(time.Hour)))
		}, want: 303},
		{name: "another site's session, same key", cookie: func(t *testing.T, f *fixture, c *http.Cookie) *http.Cookie {
			blog := newFixture(t, "blog", keys, nil)
			return blog.signIn(t)
		}, want: 303},
		{name: "another site's id relabelled with this site", cookie: func(t *testing.T, f *fixture, c *http.Cookie) *http.Cookie {
			blog := newFixture(t, "blog", keys, nil)
			bc := blog.signIn(t)
			id := strings.Split(bc.Value, ".")[2]
			return withValue(c, f.a.cookies.sign("shop", id, f.clock.Now().Add(time.Hour)))
		}, want: 303},
		{name: "this site's session under another site's claim", cookie: func(_ *testing.T, f *fixture, c *http.Cookie) *http.Cookie {
			return withValue(c, f.a.cookies.sign("blog", f.a.sessionIDForTest(), f.clock.Now().Add(time.Hour)))
		}, want: 303},
		{name: "garbage", cookie: func(_ *testing.T, _ *fixture, c *http.Cookie) *http.Cookie { return withValue(c, "x.y") }, want: 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "shop", keys, nil)
			valid := f.signIn(t)
			if tt.before != nil {
				tt.before(f)
			}
			req := newRequest("GET", "/stats", nil)
			req.AddCookie(tt.cookie(t, f, valid))
			if rec := f.do(req); rec.Code != tt.want {
				t.Errorf("GET /stats = %d %q, want %d", rec.Code, rec.Body.String(), tt.want)
			}
		})
	}
}

func keep(_ *testing.T, _ *fixture, c *http.Cookie) *http.Cookie { return c }

func withValue(c *http.Cookie, v string) *http.Cookie {
	d := *c
	d.Value = v
	return &d
}

// sessionIDForTest is the id of the one session in the table.
func (a *Authenticator) sessionIDForTest() string {
	a.sessions.mu.Lock()
	defer a.sessions.mu.Unlock()
	keys := a.sessions.lru.Keys()
	if len(keys) != 1 {
		return ""
	}
	return keys[0]
}

func TestSessionOfADottedSiteName(t *testing.T) {
	f := newFixture(t, "shop.eu", writeKeys(t, testKey), nil)
	req := newRequest("GET", "/stats", nil)
	req.AddCookie(f.signIn(t))
	if rec := f.do(req); rec.Code != 200 || rec.Body.String() != "ok shop.eu admin" {
		t.Errorf("GET /stats with a session of site shop.eu = %d %q", rec.Code, rec.Body.String())
	}
}

func TestSharedHostScopesCookiesPerSite(t *testing.T) {
	keys := writeKeys(t, testKey)
	shared := func(o *Options) { o.SharedHost = true }
	shop, blog := newFixture(t, "shop", keys, shared), newFixture(t, "blog", keys, shared)
	shopCookie := shop.signIn(t)
	if shopCookie.Name != "ts_session_shop" {
		t.Errorf("cookie name = %q, want ts_session_shop", shopCookie.Name)
	}
	req := newRequest("GET", "/stats", nil)
	req.AddCookie(withValue(&http.Cookie{Name: "ts_session_blog"}, shopCookie.Value))
	if rec := blog.do(req); rec.Code != http.StatusSeeOther {
		t.Errorf("blog with shop's session = %d, want 303 to /login", rec.Code)
	}
}

func TestSessionTableIsBounded(t *testing.T) {
	f := newFixture(t, "shop", writeKeys(t, testKey), func(o *Options) { o.MaxSessions = 2 })
	first := f.signIn(t)
	f.signIn(t)
	f.signIn(t)
	req := newRequest("GET", "/stats", nil)
	req.AddCookie(first)
	if rec := f.do(req); rec.Code != http.StatusSeeOther {
		t.Errorf("the least recently used session survived a full table: %d", rec.Code)
	}
}

func TestCSRF(t *testing.T) {
	keys := writeKeys(t, testKey)
	tests := []struct {
		name    string
		token   func(good string) string
		header  bool
		origin  string
		referer string
		want    int
	}{
		{name: "form token and origin", token: same, origin: testOrigin, want: 200},
		{name: "header token and origin", token: same, header: true, origin: testOrigin, want: 200},
		{name: "token and same-origin referer", token: same, referer: testOrigin + "/goals", want: 200},
		{name: "missing token", token: func(string) string { return "" }, origin: testOrigin, want: 403},
		{name: "wrong token", token: func(string) string { return randomToken() }, origin: testOrigin, want: 403},
		{name: "cross-origin", token: same, origin: "https://evil.example", want: 403},
		{name: "cross-origin referer", token: same, referer: "https://evil.example/x", want: 403},
		{name: "null origin", token: same, origin: "null", want: 403},
		{name: "no origin nor referer", token: same, want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "shop", keys, nil)
			c := f.signIn(t)
			tok := tt.token(f.csrfToken(t, c))
			form := url.Values{"goal": {"signup"}}
			if !tt.header {
				form.Set(CSRFField, tok)
			}
			req := newRequest("POST", "/api/goals", form)
			if tt.header {
				req.Header.Set(CSRFHeader, tok)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.referer != "" {
				req.Header.Set("Referer", tt.referer)
			}
			req.AddCookie(c)
			if rec := f.do(req); rec.Code != tt.want {
				t.Errorf("POST = %d %q, want %d", rec.Code, rec.Body.String(), tt.want)
			}
		})
	}
}

func same(good string) string { return good }

func TestLoginFormCSRF(t *testing.T) {
	f := newFixture(t, "shop", writeKeys(t, testKey), nil)
	tests := []struct {
		name   string
		cookie bool
		token  string
		origin string
	}{
		{name: "no login cookie", token: "good", origin: testOrigin},
		{name: "wrong token", cookie: true, token: "wrong", origin: testOrigin},
		{name: "cross-origin", cookie: true, token: "good", origin: "https://evil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, good := f.loginForm(t)
			tok := tt.token
			if tok == "good" {
				tok = good
			}
			req := newRequest("POST", "/login", url.Values{"user": {AdminUser}, "password": {testPassword}, CSRFField: {tok}})
			req.Header.Set("Origin", tt.origin)
			if tt.cookie {
				req.AddCookie(c)
			}
			if rec := f.do(req); rec.Code != http.StatusForbidden {
				t.Errorf("POST /login = %d, want 403", rec.Code)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, "shop", writeKeys(t, testKey), nil)
	c := f.signIn(t)
	noToken := newRequest("POST", "/logout", url.Values{})
	noToken.Header.Set("Origin", testOrigin)
	noToken.AddCookie(c)
	if rec := f.do(noToken); rec.Code != http.StatusForbidden {
		t.Fatalf("logout without a CSRF token = %d, want 403", rec.Code)
	}
	req := newRequest("POST", "/logout", url.Values{CSRFField: {f.csrfToken(t, c)}})
	req.Header.Set("Origin", testOrigin)
	req.AddCookie(c)
	if rec := f.do(req); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout = %d %q", rec.Code, rec.Body.String())
	}
	again := newRequest("GET", "/stats", nil)
	again.AddCookie(c)
	if rec := f.do(again); rec.Code != http.StatusSeeOther {
		t.Errorf("the cookie still works after logout: %d", rec.Code)
	}
	e := f.audit.Entries()
	if len(e) != 2 || e[1].Action != ActionLogout || e[1].Actor != AdminUser {
		t.Errorf("audit = %+v, want sign_in then logout", e)
	}
}
