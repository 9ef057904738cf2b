package auth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
)

const (
	testPassword = "correct horse battery staple"
	testOrigin   = "https://dash.example"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// writeKeys writes a keys directory with the test password and signingKey.
func writeKeys(t *testing.T, signingKey string) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range map[string]string{config.KeyAdminPassword: testPassword + "\n", config.KeySigning: signingKey} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fixture is an Authenticator of one site served like the dashboard serves
// it: the sign-in routes plus everything else behind Require.
type fixture struct {
	a     *Authenticator
	clock *clock
	audit *MemoryAudit
	h     http.Handler
}

func newFixture(t *testing.T, site, keysDir string, edit func(*Options)) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), audit: &MemoryAudit{}}
	o := Options{Site: site, KeysDir: keysDir, PublicURL: testOrigin, Now: f.clock.Now, Audit: f.audit}
	if edit != nil {
		edit(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	g, err := NewGuard(a)
	if err != nil {
		t.Fatal(err)
	}
	f.h = guardedMux(g, site)
	return f
}

// guardedMux serves like the dashboard: the Guard's routes, and each
// site's pages behind Require under /sites/<site>/ (the first site also
// at /, for short test paths).
func guardedMux(g *Guard, sites ...string) http.Handler {
	mux := http.NewServeMux()
	g.Register(mux)
	for i, site := range sites {
		h := g.Require(site, echo())
		mux.Handle("/sites/"+site+"/", h)
		if i == 0 {
			mux.Handle("/", h)
		}
	}
	return mux
}

// echo answers with the session's site and actor, or at /token its CSRF token.
func echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			io.WriteString(w, CSRFToken(r.Context()))
			return
		}
		s, _ := SessionFrom(r.Context())
		io.WriteString(w, "ok "+s.Site+" "+s.Actor)
	})
}

// do serves req and returns the recorded answer.
func (f *fixture) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func newRequest(method, target string, form url.Values) *http.Request {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, testOrigin+target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = "192.0.2.10:5555"
	return req
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// loginForm fetches the login form: its login cookie and token.
func (f *fixture) loginForm(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	rec := f.do(newRequest("GET", "/login", nil))
	m := csrfField.FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || m == nil {
		t.Fatalf("GET /login = %d, no token in %q", rec.Code, rec.Body.String())
	}
	return cookieNamed(t, rec, f.a.names.login), m[1]
}

// postLogin posts the login form with password.
func (f *fixture) postLogin(t *testing.T, password string) *httptest.ResponseRecorder {
	t.Helper()
	c, token := f.loginForm(t)
	req := newRequest("POST", "/login", url.Values{"user": {AdminUser}, "password": {password}, CSRFField: {token}, "next": {"/stats"}})
	req.AddCookie(c)
	req.Header.Set("Origin", testOrigin)
	return f.do(req)
}

// signIn signs in with the password and returns the session cookie.
func (f *fixture) signIn(t *testing.T) *http.Cookie {
	t.Helper()
	rec := f.postLogin(t, testPassword)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("POST /login = %d %q", rec.Code, rec.Body.String())
	}
	return cookieNamed(t, rec, f.a.names.session)
}

func cookieNamed(t *testing.T, rec *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == name && c.MaxAge >= 0 {
			return c
		}
	}
	t.Fatalf("no cookie %s in %v", name, rec.Result().Header["Set-Cookie"])
	return nil
}

// csrfToken is the session's CSRF token, as a page behind Require gets it.
func (f *fixture) csrfToken(t *testing.T, session *http.Cookie) string {
	t.Helper()
	req := newRequest("GET", "/token", nil)
	req.AddCookie(session)
	rec := f.do(req)
	if rec.Code != 200 || rec.Body.Len() == 0 {
		t.Fatalf("GET /token = %d %q", rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}
