package auth

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/throttle"
)

const testKey = "0123456789abcdef0123456789abcdef"

func TestLoginSetsAHardenedSessionCookieAndAudits(t *testing.T) {
	f := newFixture(t, "shop", writeKeys(t, testKey), nil)
	rec := f.postLogin(t, testPassword)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/stats" {
		t.Fatalf("POST /login = %d to %q, want 303 to /stats", rec.Code, rec.Header().Get("Location"))
	}
	c := cookieNamed(t, rec, SessionCookie)
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("session cookie %+v: want Secure, HttpOnly, SameSite=Lax, Path=/", c)
	}
	req := newRequest("GET", "/stats", nil)
	req.AddCookie(c)
	if got := f.do(req); got.Code != 200 || got.Body.String() != "ok shop admin" {
		t.Errorf("GET /stats with the session = %d %q", got.Code, got.Body.String())
	}
	if e := f.audit.Entries(); len(e) != 1 || e[0].Action != ActionSignIn || e[0].Actor != AdminUser || e[0].Site != "shop" {
		t.Errorf("audit = %+v, want one sign_in of admin on shop", e)
	}
}

func TestLoginPageIsSelfContained(t *testing.T) {
	f := newFixture(t, "shop", writeKeys(t, testKey), nil)
	rec := f.do(newRequest("GET", "/login", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	if body := rec.Body.String(); strings.Contains(body, "<script") || strings.Contains(body, "http") && !strings.Contains(body, `action="/login"`) {
		t.Errorf("login page loads something: %s", body)
	}
}

func TestWrongPasswordIsRefusedAndAudited(t *testing.T) {
	f := newFixture(t, "shop", writeKeys(t, testKey), nil)
	rec := f.postLogin(t, "wrong")
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("POST /login with a wrong password = %d, want 401", rec.Code)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			t.Errorf("a wrong password set a session cookie")
		}
	}
	if e := f.audit.Entries(); len(e) != 1 || e[0].Action != ActionSignInFailed || e[0].Detail != "password" {
		t.Errorf("audit = %+v, want one sign_in_failed", e)
	}
}

func TestThrottleRefusesEvenTheRightPassword(t *testing.T) {
	const burst = 3
	f := newFixture(t, "shop", writeKeys(t, testKey), func(o *Options) { o.Failures = throttle.New(1, burst, 0) })
	for i := range burst {
		if rec := f.postLogin(t, "wrong"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i, rec.Code)
		}
	}
	rec := f.postLogin(t, testPassword)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("right password after %d failures = %d (Retry-After %q), want 429 with Retry-After", burst, rec.Code, rec.Header().Get("Retry-After"))
	}
	basic := newRequest("GET", "/api/stats", nil)
	basic.SetBasicAuth(AdminUser, testPassword)
	if rec := f.do(basic); rec.Code != http.StatusTooManyRequests {
		t.Errorf("basic auth from the throttled client = %d, want 429", rec.Code)
	}
	failed := 0
	for _, e := range f.audit.Entries() {
		if e.Action == ActionSignInFailed {
			failed++
		}
	}
	if failed != burst {
		t.Errorf("%d failed sign-ins audited, want %d (throttled attempts are not compared, so not failures)", failed, burst)
	}
	f.clock.Advance(2 * time.Minute)
	if rec := f.postLogin(t, testPassword); rec.Code != http.StatusSeeOther {
		t.Errorf("right password once the allowance refilled = %d, want 303", rec.Code)
	}
}

func TestBasicAuthForScripts(t *testing.T) {
	f := newFixture(t, "shop", writeKeys(t, testKey), nil)
	tests := []struct {
		name       string
		path       string
		user, pass string
		origin     string
		method     string
		want       int
		wantJSON   bool
		wantLoc    string
	}{
		{name: "api with the password", path: "/api/stats", user: AdminUser, pass: testPassword, method: "GET", want: 200},
		{name: "api wrong password", path: "/api/stats", user: AdminUser, pass: "nope", method: "GET", want: 401, wantJSON: true},
		{name: "api other user", path: "/api/stats", user: "root", pass: testPassword, method: "GET", want: 401, wantJSON: true},
		{name: "api nothing", path: "/api/stats", method: "GET", want: 401, wantJSON: true},
		{name: "page nothing", path: "/stats?d=7", method: "GET", want: 303, wantLoc: "/login?next=%2Fstats%3Fd%3D7&site=shop"},
		{name: "script post", path: "/api/goals", user: AdminUser, pass: testPassword, method: "POST", want: 200},
		{name: "cross-origin post", path: "/api/goals", user: AdminUser, pass: testPassword, origin: "https://evil.example", method: "POST", want: 403, wantJSON: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(tt.method, tt.path, nil)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			rec := f.do(req)
			if rec.Code != tt.want {
				t.Fatalf("%s %s = %d %q, want %d", tt.method, tt.path, rec.Code, rec.Body.String(), tt.want)
			}
			if tt.wantJSON && (rec.Header().Get("Content-Type") != "application/json" || !strings.Contains(rec.Body.String(), `"error"`)) {
				t.Errorf("answer %q %q, want a JSON error", rec.Header().Get("Content-Type"), rec.Body.String())
			}
			if loc := rec.Header().Get("Location"); loc != tt.wantLoc {
				t.Errorf("Location = %q, want %q", loc, tt.wantLoc)
			}
			if wrong := tt.user != "" && rec.Code == http.StatusUnauthorized; wrong {
				e := f.audit.Entries()
				if len(e) == 0 || e[len(e)-1].Action != ActionSignInFailed || e[len(e)-1].Detail != "basic" {
					t.Errorf("a wrong basic-auth password was not audited: %+v", e)
				}
			}
			if rec.Header().Get("WWW-Authenticate") != "" {
				t.Errorf("a Basic challenge was sent: browsers would then keep the credentials")
			}
		})
	}
}

// TestAuthenticatorHoldsNoPlaintext walks every value reachable from the
// Authenticator and looks for the password's bytes.
func TestAuthenticatorHoldsNoPlaintext(t *testing.T) {
	f := newFixture(t, "shop", writeKeys(t, testKey), nil)
	f.signIn(t)
	var found []string
	walkBytes(reflect.ValueOf(f.a), "a", map[uintptr]bool{}, func(path string, b []byte) {
		if strings.Contains(string(b), testPassword) {
			found = append(found, path)
		}
	})
	if len(found) > 0 {
		t.Errorf("the plaintext password is held at %v", found)
	}
	if !f.a.password.matches(testPassword) || f.a.password.matches(testPassword+"x") {
		t.Errorf("the hash does not tell the password apart")
	}
}

// walkBytes calls visit with every string and byte slice reachable from v.
func walkBytes(v reflect.Value, path string, seen map[uintptr]bool, visit func(string, []byte)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Pointer {
			if seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
		}
		walkBytes(v.Elem(), path, seen, visit)
	case reflect.Struct:
		for i := range v.NumField() {
			walkBytes(v.Field(i), path+"."+v.Type().Field(i).Name, seen, visit)
		}
	case reflect.String:
		visit(path, []byte(v.String()))
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			for i := range b {
				b[i] = byte(v.Index(i).Uint()) // Uint, unlike Interface, reads unexported fields
			}
			visit(path, b)
			return
		}
		for i := range v.Len() {
			walkBytes(v.Index(i), path, seen, visit)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkBytes(v.MapIndex(k), path, seen, visit)
		}
	}
}

func TestNewRefusesMissingKeys(t *testing.T) {
	if _, err := New(Options{Site: "shop", KeysDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "admin password") {
		t.Errorf("New without keys: %v, want an error naming the admin password", err)
	}
	if _, err := New(Options{Site: "shop", KeysDir: writeKeys(t, "short")}); err == nil || !strings.Contains(err.Error(), "signing key") {
		t.Errorf("New with a short signing key: %v", err)
	}
}

func TestLocalPathDropsOffsiteRedirects(t *testing.T) {
	for in, want := range map[string]string{"/stats": "/stats", "//evil.example": "", "https://evil.example": "", `/\evil.example`: "", "": ""} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
	_ = url.Values{}
}
