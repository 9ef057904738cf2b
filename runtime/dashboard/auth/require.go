package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

type sessionKey struct{}

// SessionFrom returns the session of a request Require let through: a
// session of the form or OIDC sign-in, or, for basic auth, one with Actor
// "admin", no ID and no CSRF token.
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

// CSRFToken is the token a page served through Require puts in its forms
// (field CSRFField) or scripts send (header CSRFHeader); "" without a
// session.
func CSRFToken(ctx context.Context) string {
	s, _ := SessionFrom(ctx)
	return s.CSRF
}

// session returns r's live session of a's site, if its cookie has one.
func (a *Authenticator) session(r *http.Request) (Session, bool) {
	c, err := r.Cookie(a.names.session)
	if err != nil {
		return Session{}, false
	}
	now := a.now()
	id, ok := a.cookies.open(c.Value, a.site, now)
	if !ok {
		return Session{}, false
	}
	return a.sessions.touch(id, a.site, now)
}

// Require serves next only to a signed-in user of a's site: a session
// whose cookie and server-side record are both of this site, or HTTP basic
// auth as user admin (for scripts; throttled like the form). Requests that
// change state must pass the CSRF check (see the package doc). Anyone else
// is redirected to /login, or, under /api/, answered 401 with a JSON error.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Add("Vary", "Cookie")
		if s, ok := a.session(r); ok {
			if !safeMethod(r.Method) && (!a.sameOrigin(r, true) || !validSessionCSRF(r, s)) {
				a.refuse(w, r, http.StatusForbidden, "missing or wrong CSRF token, or another origin")
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
			return
		}
		if user, pass, sent := r.BasicAuth(); sent {
			a.serveBasic(w, r, user, pass, next)
			return
		}
		a.unauthenticated(w, r)
	})
}

// serveBasic serves next to a request with the admin's basic credentials.
func (a *Authenticator) serveBasic(w http.ResponseWriter, r *http.Request, user, pass string, next http.Handler) {
	if !a.allowAttempt(w, r) {
		return
	}
	if !a.matches(user, pass) {
		a.failed(r, user, "basic")
		a.refuse(w, r, http.StatusUnauthorized, "wrong user or password")
		return
	}
	// A script sends no Origin; a browser page of another origin that
	// somehow holds the password does, and is refused.
	if !safeMethod(r.Method) && !a.sameOrigin(r, false) {
		a.refuse(w, r, http.StatusForbidden, "request from another origin")
		return
	}
	s := Session{Site: a.site, Actor: AdminUser}
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
}

// unauthenticated sends pages to the login form and API calls a 401.
func (a *Authenticator) unauthenticated(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) || !safeMethod(r.Method) {
		a.refuse(w, r, http.StatusUnauthorized, "sign in, or send HTTP basic auth as user admin")
		return
	}
	q := url.Values{SiteField: {a.site}}
	if p := localPath(r.URL.RequestURI()); p != "" && p != "/" {
		q.Set("next", p)
	}
	http.Redirect(w, r, "/login?"+q.Encode(), http.StatusSeeOther)
}

// refuse answers status: JSON under /api/, plain text elsewhere. No Basic
// challenge is ever sent, so browsers never keep basic credentials that
// they would then send on their own.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if !isAPI(r) {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func isAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}
