package auth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// twoSites is a standalone host serving shop and blog, each with its own
// keys.
func twoSites(t *testing.T) (g *Guard, h http.Handler, shop, blog *Authenticator) {
	t.Helper()
	c := newClock()
	build := func(site, key string) *Authenticator {
		a, err := New(Options{Site: site, KeysDir: writeKeys(t, key), PublicURL: testOrigin, SharedHost: true, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	shop, blog = build("shop", testKey), build("blog", "another key of at least 16 bytes")
	g, err := NewGuard(shop, blog)
	if err != nil {
		t.Fatal(err)
	}
	return g, guardedMux(g, "shop", "blog"), shop, blog
}

func serve(h http.Handler, req *http.Request) *http.Response {
	f := &fixture{h: h}
	return f.do(req).Result()
}

func TestGuardKeepsSitesApart(t *testing.T) {
	_, h, shop, _ := twoSites(t)
	form := serve(h, newRequest("GET", "/login?site=shop", nil))
	var login *http.Cookie
	for _, c := range form.Cookies() {
		if c.Name == shop.names.login {
			login = c
		}
	}
	if login == nil {
		t.Fatalf("GET /login?site=shop set no login cookie %s", shop.names.login)
	}
	body := new(strings.Builder)
	form.Write(body)
	m := csrfField.FindStringSubmatch(body.String())
	if m == nil || !strings.Contains(body.String(), `name="site" value="shop"`) {
		t.Fatalf("login form of shop lacks its token or site: %s", body)
	}
	req := newRequest("POST", "/login", url.Values{SiteField: {"shop"}, "user": {AdminUser}, "password": {testPassword}, CSRFField: {m[1]}})
	req.Header.Set("Origin", testOrigin)
	req.AddCookie(login)
	resp := serve(h, req)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "ts_session_shop" && c.MaxAge > 0 {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("POST /login for shop = %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	tests := []struct {
		path string
		want int
	}{
		{"/sites/shop/", 200},
		{"/sites/blog/", 303},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			req := newRequest("GET", tt.path, nil)
			req.AddCookie(session)
			// The browser sends every cookie of the host, blog's name included.
			req.AddCookie(&http.Cookie{Name: "ts_session_blog", Value: session.Value})
			if got := serve(h, req); got.StatusCode != tt.want {
				t.Errorf("GET %s with shop's session = %d, want %d", tt.path, got.StatusCode, tt.want)
			}
		})
	}
}

func TestGuardRoutesBySite(t *testing.T) {
	_, h, _, _ := twoSites(t)
	tests := []struct {
		name, target string
		want         int
		wantBody     string
	}{
		{"no site: a list to pick from", "/login", 200, `href="/login?site=blog"`},
		{"unknown site", "/login?site=nope", 404, ""},
		{"blog's form", "/login?site=blog", 200, `value="blog"`},
		{"no OIDC configured", "/login/oidc?site=shop", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := serve(h, newRequest("GET", tt.target, nil))
			body := new(strings.Builder)
			resp.Write(body)
			if resp.StatusCode != tt.want || !strings.Contains(body.String(), tt.wantBody) {
				t.Errorf("GET %s = %d, want %d with %q:\n%s", tt.target, resp.StatusCode, tt.want, tt.wantBody, body)
			}
		})
	}
	unauth := serve(h, newRequest("GET", "/sites/blog/overview", nil))
	if loc := unauth.Header.Get("Location"); loc != "/login?next=%2Fsites%2Fblog%2Foverview&site=blog" {
		t.Errorf("unauthenticated blog page redirects to %q", loc)
	}
}

func TestNewGuardRefusesSharedCookieNames(t *testing.T) {
	keys := writeKeys(t, testKey)
	a, _ := New(Options{Site: "shop", KeysDir: keys})
	b, _ := New(Options{Site: "blog", KeysDir: keys})
	if _, err := NewGuard(a, b); err == nil || !strings.Contains(err.Error(), "SharedHost") {
		t.Errorf("NewGuard of two sites with one cookie name: %v", err)
	}
	if _, err := NewGuard(a, a); err == nil {
		t.Errorf("NewGuard of one site twice succeeded")
	}
}
