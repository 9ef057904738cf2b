package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"time"
)

// CSRF token carriers.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// loginTokenLife bounds how long a login form may stay open.
const loginTokenLife = time.Hour

// safeMethod reports whether method never changes state.
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// origin is the dashboard's own origin, "scheme://host".
func (a *Authenticator) origin(r *http.Request) string {
	if a.publicURL != nil {
		return a.publicURL.Scheme + "://" + a.publicURL.Host
	}
	scheme := "https"
	if !a.secure && r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// sameOrigin reports whether r says it comes from the dashboard itself:
// its Origin, or lacking one its Referer, has the dashboard's origin. With
// neither, it reports requireHeader's opposite.
func (a *Authenticator) sameOrigin(r *http.Request, requireHeader bool) bool {
	want := a.origin(r)
	if o := r.Header.Get("Origin"); o != "" {
		return o == want
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err == nil && u.Scheme+"://"+u.Host == want
	}
	return !requireHeader
}

// sentCSRF is the token r carries: the header, else the form field.
func sentCSRF(r *http.Request) string {
	if t := r.Header.Get(CSRFHeader); t != "" {
		return t
	}
	return r.PostFormValue(CSRFField)
}

// validSessionCSRF reports whether r carries s's synchronizer token.
func validSessionCSRF(r *http.Request, s Session) bool {
	sent := sentCSRF(r)
	return sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(s.CSRF)) == 1
}

// loginToken is the token of the login form bound to the nonce in the
// login cookie.
func (a *Authenticator) loginToken(nonce string) string {
	m := hmac.New(sha256.New, a.loginKey)
	m.Write([]byte(a.site + "." + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issueLoginToken sets a fresh login cookie and returns the form's token.
func (a *Authenticator) issueLoginToken(w http.ResponseWriter) string {
	nonce := randomToken()
	http.SetCookie(w, a.cookie(a.names.login, nonce, loginTokenLife))
	return a.loginToken(nonce)
}

// validLoginCSRF reports whether the login form r posts carries the token
// of its login cookie.
func (a *Authenticator) validLoginCSRF(r *http.Request) bool {
	c, err := r.Cookie(a.names.login)
	if err != nil || c.Value == "" {
		return false
	}
	sent := sentCSRF(r)
	return sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(a.loginToken(c.Value))) == 1
}
