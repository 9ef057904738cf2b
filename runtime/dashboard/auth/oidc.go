package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/trackstack/trackstack/runtime/config"
)

// DefaultGroupsClaim is the ID-token claim listing a user's groups.
const DefaultGroupsClaim = "groups"

// oidcFlowLife bounds how long a user may take at the issuer.
const oidcFlowLife = 10 * time.Minute

// OIDCOptions configure sign-in with an OpenID Connect issuer. A user is
// let in when the ID token has a verified e-mail and that e-mail is in
// AllowedEmails, its domain in AllowedDomains, or one of its groups in
// AllowedGroups; with all three empty, nobody is.
type OIDCOptions struct {
	IssuerURL string
	ClientID  string
	// ClientSecretFile holds the client secret.
	ClientSecretFile string
	AllowedEmails    []string
	AllowedDomains   []string
	AllowedGroups    []string
	// GroupsClaim names the groups claim; "" is DefaultGroupsClaim.
	GroupsClaim string
	// HTTPClient talks to the issuer; nil is a client with a 10 s timeout.
	HTTPClient *http.Client
}

// oidcLogin is the OIDC sign-in of one site.
type oidcLogin struct {
	opts     OIDCOptions
	secret   string
	flowKey  []byte
	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use, so a dashboard starts while its issuer is down
}

func newOIDCLogin(o OIDCOptions, flowKey []byte) (*oidcLogin, error) {
	if o.IssuerURL == "" || o.ClientID == "" || o.ClientSecretFile == "" {
		return nil, errors.New("auth: OIDC needs an issuer URL, a client ID and a client secret file")
	}
	secret, err := os.ReadFile(o.ClientSecretFile)
	if err != nil {
		return nil, fmt.Errorf("while reading the OIDC client secret: %w", err)
	}
	if o.GroupsClaim == "" {
		o.GroupsClaim = DefaultGroupsClaim
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &oidcLogin{opts: o, secret: strings.TrimRight(string(secret), "\r\n"), flowKey: flowKey}, nil
}

// discover returns the issuer's provider, fetching its discovery document
// the first time it succeeds.
func (l *oidcLogin) discover(ctx context.Context) (*oidc.Provider, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.provider != nil {
		return l.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, l.opts.HTTPClient), l.opts.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("while discovering the OIDC issuer: %w", err)
	}
	l.provider = p
	return p, nil
}

func (l *oidcLogin) oauth2Config(p *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: l.opts.ClientID, ClientSecret: l.secret, Endpoint: p.Endpoint(),
		RedirectURL: redirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

// oidcFlow is what the browser carries, signed, from /login/oidc to the
// callback: it binds state, nonce and PKCE verifier to that browser.
type oidcFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"r,omitempty"`
	Expires  int64  `json:"e"`
}

func (l *oidcLogin) sealFlow(f oidcFlow) string {
	body, _ := json.Marshal(f) // a struct of strings and an int always marshals
	b := base64.RawURLEncoding.EncodeToString(body)
	return b + "." + l.flowMAC(b)
}

func (l *oidcLogin) flowMAC(b string) string {
	m := hmac.New(sha256.New, l.flowKey)
	m.Write([]byte(b))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (l *oidcLogin) openFlow(v string, now time.Time) (oidcFlow, bool) {
	b, mac, ok := strings.Cut(v, ".")
	if !ok || subtle.ConstantTimeCompare([]byte(mac), []byte(l.flowMAC(b))) != 1 {
		return oidcFlow{}, false
	}
	body, err := base64.RawURLEncoding.DecodeString(b)
	var f oidcFlow
	if err != nil || json.Unmarshal(body, &f) != nil || !now.Before(time.Unix(f.Expires, 0)) {
		return oidcFlow{}, false
	}
	return f, true
}

func (a *Authenticator) redirectURL(r *http.Request) string {
	return a.origin(r) + "/login/oidc/callback"
}

// serveOIDCStart sends the browser to the issuer with a fresh state, nonce
// and PKCE challenge, remembered in a signed cookie.
func (a *Authenticator) serveOIDCStart(w http.ResponseWriter, r *http.Request) {
	p, err := a.oidc.discover(r.Context())
	if err != nil {
		a.log.Warn("OIDC sign-in unavailable", "site", a.site, "error", err)
		http.Error(w, "the sign-in provider cannot be reached; try again later", http.StatusBadGateway)
		return
	}
	f := oidcFlow{
		State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(r.URL.Query().Get("next")), Expires: a.now().Add(oidcFlowLife).Unix(),
	}
	http.SetCookie(w, a.cookie(a.names.oidc, a.oidc.sealFlow(f), oidcFlowLife))
	u := a.oidc.oauth2Config(p, a.redirectURL(r)).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	http.Redirect(w, r, u, http.StatusFound)
}

// serveOIDCCallback finishes the flow: it checks state against the cookie,
// redeems the code with the PKCE verifier, verifies the ID token (issuer,
// audience, expiry, signature, nonce) and the user's admission, and starts
// a session.
func (a *Authenticator) serveOIDCCallback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(a.names.oidc)
	a.expireCookie(w, a.names.oidc)
	if err != nil {
		a.oidcRefuse(w, r, "", "no sign-in in progress")
		return
	}
	f, ok := a.oidc.openFlow(c.Value, a.now())
	q := r.URL.Query()
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		a.oidcRefuse(w, r, "", "state mismatch or expired sign-in")
		return
	}
	if e := q.Get("error"); e != "" {
		a.oidcRefuse(w, r, "", "issuer error: "+e)
		return
	}
	email, err := a.verifyOIDC(r.Context(), r, q.Get("code"), f)
	if err != nil {
		a.oidcRefuse(w, r, email, err.Error())
		return
	}
	a.signIn(w, r, email, "oidc")
	http.Redirect(w, r, orRoot(f.Next), http.StatusSeeOther)
}

// verifyOIDC redeems code and returns the admitted user's e-mail; on
// refusal it returns the e-mail too, when the token was genuine.
func (a *Authenticator) verifyOIDC(ctx context.Context, r *http.Request, code string, f oidcFlow) (string, error) {
	p, err := a.oidc.discover(ctx)
	if err != nil {
		return "", err
	}
	ctx = oidc.ClientContext(ctx, a.oidc.opts.HTTPClient)
	tok, err := a.oidc.oauth2Config(p, a.redirectURL(r)).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return "", errors.New("code exchange failed")
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return "", errors.New("no id_token in the token response")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: a.oidc.opts.ClientID, Now: a.now}).Verify(ctx, raw)
	if err != nil {
		return "", errors.New("ID token invalid")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return "", errors.New("nonce mismatch")
	}
	cl, err := parseClaims(idt, a.oidc.opts.GroupsClaim)
	if err != nil {
		return "", err
	}
	return cl.email, a.oidc.admit(cl)
}

func (a *Authenticator) oidcRefuse(w http.ResponseWriter, r *http.Request, email, reason string) {
	a.audit.Record(r.Context(), Entry{Time: a.now(), Site: a.site, Actor: email, Action: ActionSignInFailed, Detail: "oidc: " + reason})
	http.Error(w, "sign-in refused: "+reason, http.StatusForbidden)
}

// OIDCFromConfig is the OIDC sign-in of the runtime configuration's
// dashboard section; nil when the site has none.
func OIDCFromConfig(d *config.Dashboard) *OIDCOptions {
	if d == nil || d.OIDC == nil {
		return nil
	}
	o := d.OIDC
	return &OIDCOptions{
		IssuerURL: o.IssuerURL, ClientID: o.ClientID, ClientSecretFile: o.ClientSecretFile,
		AllowedEmails: o.AllowedEmails, AllowedDomains: o.AllowedDomains, AllowedGroups: o.AllowedGroups,
		GroupsClaim: o.GroupsClaim,
	}
}

// ownsOIDCCallback reports whether r ends a sign-in a started: the browser
// sent a's flow cookie and the issuer returned its state.
func (a *Authenticator) ownsOIDCCallback(r *http.Request) bool {
	c, err := r.Cookie(a.names.oidc)
	if err != nil {
		return false
	}
	f, ok := a.oidc.openFlow(c.Value, a.now())
	return ok && subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(f.State)) == 1
}
