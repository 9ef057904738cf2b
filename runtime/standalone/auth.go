package standalone

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/throttle"
)

// AdminUser is the user name of HTTP basic auth.
const AdminUser = "admin"

// Realms of the admin's basic auth. Browsers answer a challenge with the
// credentials they keep for its realm without asking, so the events page,
// the only thing a person logs into with a browser, has a realm of its own:
// a script of another page on the origin that calls the API or /metrics is
// challenged for a realm the browser holds no credentials for.
const (
	realmAPI  = "trackstack"
	realmPage = "trackstack events page"
)

// Admin guards what only the admin may read (the events API, the events
// page and /metrics): HTTP basic auth as user AdminUser with the admin
// password, compared in constant time. Wrong credentials are counted per
// client address (runtime/throttle): a client that sent too many is
// refused with 429, right password or not, until its allowance refills, so
// the password cannot be guessed at speed. Build it with NewAdmin; a nil
// Admin refuses every request.
type Admin struct {
	password []byte
	failures *throttle.Failures
	now      func() time.Time
}

// NewAdmin returns the guard of the admin password; an empty password
// refuses every request.
func NewAdmin(password []byte) *Admin {
	return &Admin{password: password, failures: throttle.New(0, 0, 0), now: time.Now}
}

// failFunc writes a refusal in the format of the endpoint refusing.
type failFunc func(w http.ResponseWriter, status int, msg string)

// authorize reports whether r carries the admin's credentials; when it
// does not, it has answered through fail: 401 with a Basic challenge, or
// 429 with Retry-After for a client that failed too often.
func (a *Admin) authorize(w http.ResponseWriter, r *http.Request, realm string, fail failFunc) bool {
	user, pass, sent := r.BasicAuth()
	if sent && a != nil {
		// A throttled client is refused before its password is compared,
		// so the answers tell it nothing.
		client, now := remoteAddr(r), a.now()
		if ok, wait := a.failures.Allow(client, now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(throttle.RetryAfterSeconds(wait)))
			fail(w, http.StatusTooManyRequests, "too many wrong passwords from this address; retry later")
			return false
		}
		if a.matches(user, pass) {
			return true
		}
		a.failures.Fail(client, now)
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`", charset="UTF-8"`)
	fail(w, http.StatusUnauthorized, "user admin and the admin password are required (HTTP basic auth)")
	return false
}

// Require serves next only to the admin; others get a plain-text refusal.
func (a *Admin) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if a.authorize(w, r, realmAPI, textError) {
			next.ServeHTTP(w, r)
		}
	})
}

// matches compares in constant time: both values are hashed first, so
// neither their length nor the first differing byte shows.
func (a *Admin) matches(user, pass string) bool {
	if len(a.password) == 0 {
		return false
	}
	gotU, wantU := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(AdminUser))
	gotP, wantP := sha256.Sum256([]byte(pass)), sha256.Sum256(a.password)
	okU := subtle.ConstantTimeCompare(gotU[:], wantU[:])
	okP := subtle.ConstantTimeCompare(gotP[:], wantP[:])
	return okU&okP == 1
}

// remoteAddr is the client's address: standalone trusts no proxy, so it is
// the connection's peer. An unparsable one counts as the zero address.
func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

func textError(w http.ResponseWriter, status int, msg string) {
	http.Error(w, msg, status)
}
