package standalone

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/throttle"
)

// TestAdminLoginsAreThrottled guesses the admin password from one address:
// after the throttle's burst of wrong passwords every attempt from there is
// refused with 429 and Retry-After, even the right password, while another
// address still gets in; once the allowance refills, so does the first.
func TestAdminLoginsAreThrottled(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	admin := NewAdmin([]byte("the-password"))
	admin.now = func() time.Time { return now }
	h := admin.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	try := func(from, pass string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = from + ":40000"
		if pass != "" {
			r.SetBasicAuth(AdminUser, pass)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	const guesser, other = "192.0.2.7", "198.51.100.9"

	for i := range throttle.DefaultBurst {
		if rec := try(guesser, "guess"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401 (a person mistyping is not throttled)", i+1, rec.Code)
		}
	}
	for _, tc := range []struct {
		name, from, pass string
		status           int
	}{
		{"another guess", guesser, "guess", http.StatusTooManyRequests},
		{"the right password from the guesser", guesser, "the-password", http.StatusTooManyRequests},
		{"no credentials from the guesser", guesser, "", http.StatusUnauthorized},
		{"the right password from elsewhere", other, "the-password", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := try(tc.from, tc.pass)
			if rec.Code != tc.status {
				t.Fatalf("%d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}

	now = now.Add(time.Minute)
	if rec := try(guesser, "the-password"); rec.Code != http.StatusOK {
		t.Errorf("a minute later the right password: %d, want 200", rec.Code)
	}
}
