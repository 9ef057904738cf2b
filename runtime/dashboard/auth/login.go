package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trackstack/trackstack/runtime/throttle"
)

//go:embed login.html
var loginHTML string

var loginPage = template.Must(template.New("login").Parse(loginHTML))

// maxFormBytes bounds a login or logout form.
const maxFormBytes = 4 << 10

// SiteField names the site a sign-in or logout is for (query or form),
// where one dashboard serves several sites (Guard).
const SiteField = "site"

type loginView struct {
	Site, CSRF, Next, Error, Nonce string
	OIDC                           bool
}

// oidcLink is the link that starts the OIDC sign-in.
func (v loginView) OIDCLink() string {
	q := url.Values{SiteField: {v.Site}}
	if v.Next != "" {
		q.Set("next", v.Next)
	}
	return "/login/oidc?" + q.Encode()
}

func (a *Authenticator) serveLoginForm(w http.ResponseWriter, r *http.Request) {
	a.renderLogin(w, http.StatusOK, localPath(r.URL.Query().Get("next")), "")
}

// renderLogin answers with the login form under a CSP that allows nothing
// but the form itself and its one inline style block.
func (a *Authenticator) renderLogin(w http.ResponseWriter, status int, next, msg string) {
	v := loginView{Site: a.site, CSRF: a.issueLoginToken(w), Next: next, Error: msg, Nonce: randomToken(), OIDC: a.oidc != nil}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+v.Nonce+"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, v); err != nil {
		a.log.Warn("rendering the login page", "site", a.site, "error", err)
	}
}

func (a *Authenticator) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	next := localPath(r.PostFormValue("next"))
	if !a.sameOrigin(r, true) || !a.validLoginCSRF(r) {
		http.Error(w, "the login form expired or came from another site; reload it", http.StatusForbidden)
		return
	}
	if !a.allowAttempt(w, r) {
		return
	}
	user, pass := r.PostFormValue("user"), r.PostFormValue("password")
	if !a.matches(user, pass) {
		a.failed(r, user, "password")
		a.renderLogin(w, http.StatusUnauthorized, next, "Wrong user or password.")
		return
	}
	a.signIn(w, r, AdminUser, "password")
	http.Redirect(w, r, orRoot(next), http.StatusSeeOther)
}

// allowAttempt reports whether r's client may try a credential now; when
// not, it has answered 429 with Retry-After. It is asked before the
// credential is compared, so a throttled client learns nothing.
func (a *Authenticator) allowAttempt(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := a.failures.Allow(a.clientIP(r), a.now())
	if ok {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(throttle.RetryAfterSeconds(wait)))
	http.Error(w, "too many wrong passwords from this address; retry later", http.StatusTooManyRequests)
	return false
}

// matches reports whether user and pass are the admin's. The user name is
// compared by hash in constant time, and the password always hashed, so
// neither a wrong user nor a wrong length answers faster.
func (a *Authenticator) matches(user, pass string) bool {
	gotU, wantU := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(AdminUser))
	okU := subtle.ConstantTimeCompare(gotU[:], wantU[:]) == 1
	okP := a.password.matches(pass)
	return okU && okP
}

// failed counts and audits a failed sign-in.
func (a *Authenticator) failed(r *http.Request, user, method string) {
	a.failures.Fail(a.clientIP(r), a.now())
	actor := ""
	if user == AdminUser {
		actor = AdminUser // never echo an arbitrary user name: it may be a mistyped password
	}
	a.audit.Record(r.Context(), Entry{Time: a.now(), Site: a.site, Actor: actor, Action: ActionSignInFailed, Detail: method})
}

// signIn starts a session of actor and sets its cookie.
func (a *Authenticator) signIn(w http.ResponseWriter, r *http.Request, actor, method string) {
	now := a.now()
	s := a.sessions.create(a.site, actor, now)
	http.SetCookie(w, a.cookie(a.names.session, a.cookies.sign(a.site, s.ID, s.expires()), SessionMax))
	a.expireCookie(w, a.names.login)
	a.audit.Record(r.Context(), Entry{Time: now, Site: a.site, Actor: actor, Action: ActionSignIn, Detail: method})
}

func (a *Authenticator) serveLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	s, ok := a.session(r)
	if !ok {
		a.expireCookie(w, a.names.session)
		http.Redirect(w, r, a.loginURL(), http.StatusSeeOther)
		return
	}
	if !a.sameOrigin(r, true) || !validSessionCSRF(r, s) {
		http.Error(w, "missing or wrong CSRF token, or another origin", http.StatusForbidden)
		return
	}
	a.sessions.remove(s.ID)
	a.expireCookie(w, a.names.session)
	a.audit.Record(r.Context(), Entry{Time: a.now(), Site: a.site, Actor: s.Actor, Action: ActionLogout})
	http.Redirect(w, r, a.loginURL(), http.StatusSeeOther)
}

func (a *Authenticator) loginURL() string {
	return "/login?" + url.Values{SiteField: {a.site}}.Encode()
}

// localPath returns p when it is a path on this host, else "": a "next"
// that could send the browser elsewhere after sign-in is dropped.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return ""
	}
	return p
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
