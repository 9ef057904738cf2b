package standalone

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// AdminUser is the user name of HTTP basic auth.
const AdminUser = "admin"

// Admin guards what only the admin may read (the events API and /metrics):
// HTTP basic auth as user AdminUser with the admin password, compared in
// constant time. A nil Admin refuses every request.
type Admin struct {
	// Password is the admin password. Empty refuses every request.
	Password []byte
}

// failFunc writes a refusal in the format of the endpoint refusing.
type failFunc func(w http.ResponseWriter, status int, msg string)

// authorize reports whether r carries the admin's credentials; when it
// does not, it has answered 401 with a Basic challenge through fail.
func (a *Admin) authorize(w http.ResponseWriter, r *http.Request, fail failFunc) bool {
	if a.matches(r) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="trackstack", charset="UTF-8"`)
	fail(w, http.StatusUnauthorized, "user admin and the admin password are required (HTTP basic auth)")
	return false
}

// Require serves next only to the admin; others get a plain-text refusal.
func (a *Admin) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if a.authorize(w, r, textError) {
			next.ServeHTTP(w, r)
		}
	})
}

// matches checks basic auth in constant time: both values are hashed
// first, so neither their length nor the first differing byte shows.
func (a *Admin) matches(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || a == nil || len(a.Password) == 0 {
		return false
	}
	gotU, wantU := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(AdminUser))
	gotP, wantP := sha256.Sum256([]byte(pass)), sha256.Sum256(a.Password)
	okU := subtle.ConstantTimeCompare(gotU[:], wantU[:])
	okP := subtle.ConstantTimeCompare(gotP[:], wantP[:])
	return okU&okP == 1
}

func textError(w http.ResponseWriter, status int, msg string) {
	http.Error(w, msg, status)
}
