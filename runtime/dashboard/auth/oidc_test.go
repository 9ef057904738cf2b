package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const (
	testClientID     = "dashboard-shop"
	testClientSecret = "s3cret"
)

// issuer is a small OpenID Connect provider: discovery, JWKS, an
// authorize endpoint that signs the user in at once and redirects back
// with a code, and a token endpoint that checks the client and the PKCE
// verifier and returns an RS256 ID token.
type issuer struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	now    func() time.Time
	mu     sync.Mutex
	codes  map[string]authorization
	claims func(c map[string]any) // edits the ID token's claims
}

type authorization struct{ nonce, challenge, redirect string }

func newIssuer(t *testing.T, now func() time.Time) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, now: now, codes: map[string]authorization{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", is.discovery)
	mux.HandleFunc("GET /jwks", is.jwks)
	mux.HandleFunc("GET /authorize", is.authorize)
	mux.HandleFunc("POST /token", is.token)
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) discovery(w http.ResponseWriter, _ *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": is.srv.URL, "authorization_endpoint": is.srv.URL + "/authorize",
		"token_endpoint": is.srv.URL + "/token", "jwks_uri": is.srv.URL + "/jwks",
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (is *issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &is.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (is *issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != testClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := randomToken()
	is.mu.Lock()
	is.codes[code] = authorization{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	is.mu.Unlock()
	back := q.Get("redirect_uri") + "?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back, http.StatusFound)
}

func (is *issuer) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	is.mu.Lock()
	az, found := is.codes[r.PostFormValue("code")]
	delete(is.codes, r.PostFormValue("code"))
	is.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != testClientID || secret != testClientSecret:
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case !found || az.redirect != r.PostFormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != az.challenge:
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": is.idToken(az.nonce)})
}

func (is *issuer) idToken(nonce string) string {
	now := is.now()
	c := map[string]any{
		"iss": is.srv.URL, "sub": "u1", "aud": testClientID, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": "ada@example.com", "email_verified": true,
	}
	if is.claims != nil {
		is.claims(c)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: is.key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(c)
	sig, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	s, _ := sig.CompactSerialize()
	return s
}

// oidcFixture is a dashboard whose site signs in at is.
func oidcFixture(t *testing.T) (*fixture, *issuer) {
	t.Helper()
	keys := writeKeys(t, testKey)
	secretFile := filepath.Join(t.TempDir(), "clientSecret")
	if err := os.WriteFile(secretFile, []byte(testClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	var is *issuer
	f := newFixture(t, "shop", keys, func(o *Options) {
		is = newIssuer(t, o.Now)
		o.OIDC = &OIDCOptions{
			IssuerURL: is.srv.URL, ClientID: testClientID, ClientSecretFile: secretFile,
			AllowedEmails: []string{"ada@example.com"}, AllowedDomains: []string{"corp.example"}, AllowedGroups: []string{"analysts"},
			HTTPClient: is.srv.Client(),
		}
	})
	return f, is
}

// oidcSignIn runs the browser's side of the flow; tamper may change the
// callback request. It returns the callback's answer.
func oidcSignIn(t *testing.T, f *fixture, is *issuer, tamper func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	start := f.do(newRequest("GET", "/login/oidc?next=/stats", nil))
	if start.Code != http.StatusFound || !strings.HasPrefix(start.Header().Get("Location"), is.srv.URL+"/authorize?") {
		t.Fatalf("GET /login/oidc = %d to %q", start.Code, start.Header().Get("Location"))
	}
	browser := is.srv.Client()
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := browser.Get(start.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(back.String(), testOrigin+"/login/oidc/callback?") {
		t.Fatalf("issuer answered %d to %q", resp.StatusCode, back)
	}
	req := newRequest("GET", back.RequestURI(), nil)
	req.AddCookie(cookieNamed(t, start, f.a.names.oidc))
	if tamper != nil {
		tamper(req)
	}
	return f.do(req)
}

func TestOIDCSignIn(t *testing.T) {
	tests := []struct {
		name      string
		claims    func(map[string]any)
		tamper    func(*http.Request)
		wantActor string // "" means refused
	}{
		{name: "allowed e-mail", wantActor: "ada@example.com"},
		{name: "allowed domain", claims: set("email", "bob@corp.example"), wantActor: "bob@corp.example"},
		{name: "allowed group", claims: func(c map[string]any) { c["email"] = "eve@else.example"; c["groups"] = []string{"staff", "analysts"} }, wantActor: "eve@else.example"},
		{name: "disallowed domain", claims: set("email", "mallory@evil.example")},
		{name: "e-mail not verified", claims: set("email_verified", false)},
		{name: "wrong nonce", claims: set("nonce", "another")},
		{name: "expired token", claims: func(c map[string]any) { c["exp"] = c["iat"].(int64) - 60 }},
		{name: "another audience", claims: set("aud", "another-client")},
		{name: "another issuer", claims: set("iss", "https://evil.example")},
		{name: "wrong state", tamper: func(r *http.Request) {
			q := r.URL.Query()
			q.Set("state", randomToken())
			r.URL.RawQuery = q.Encode()
		}},
		{name: "no flow cookie", tamper: func(r *http.Request) { r.Header.Del("Cookie") }},
		{name: "flow of another browser", tamper: func(r *http.Request) {
			r.Header.Del("Cookie")
			r.AddCookie(&http.Cookie{Name: oidcCookie, Value: "e30.forged"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, is := oidcFixture(t)
			is.claims = tt.claims
			rec := oidcSignIn(t, f, is, tt.tamper)
			entries := f.audit.Entries()
			if tt.wantActor == "" {
				if rec.Code != http.StatusForbidden {
					t.Fatalf("callback = %d %q, want 403", rec.Code, rec.Body.String())
				}
				if len(entries) != 1 || entries[0].Action != ActionSignInFailed {
					t.Errorf("audit = %+v, want one sign_in_failed", entries)
				}
				return
			}
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/stats" {
				t.Fatalf("callback = %d %q to %q, want 303 to /stats", rec.Code, rec.Body.String(), rec.Header().Get("Location"))
			}
			req := newRequest("GET", "/stats", nil)
			req.AddCookie(cookieNamed(t, rec, SessionCookie))
			if got := f.do(req); got.Body.String() != "ok shop "+tt.wantActor {
				t.Errorf("GET /stats with the session = %d %q", got.Code, got.Body.String())
			}
			if len(entries) != 1 || entries[0].Action != ActionSignIn || entries[0].Actor != tt.wantActor || entries[0].Detail != "oidc" {
				t.Errorf("audit = %+v, want one oidc sign_in of %s", entries, tt.wantActor)
			}
		})
	}
}

func set(k string, v any) func(map[string]any) {
	return func(c map[string]any) { c[k] = v }
}

func TestOIDCCodeIsRedeemedOnce(t *testing.T) {
	f, is := oidcFixture(t)
	var replay *http.Request
	rec := oidcSignIn(t, f, is, func(r *http.Request) { replay = r.Clone(r.Context()) })
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("first callback = %d", rec.Code)
	}
	if again := f.do(replay); again.Code != http.StatusForbidden {
		t.Errorf("replayed callback = %d, want 403", again.Code)
	}
}
