package auth

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// The session cookie and the OIDC flow cookie come from browsers: any
// bytes. Opening them must never panic, and only what was signed opens.

func FuzzOpenSessionCookie(f *testing.F) {
	c := cookieSigner{key: deriveKey([]byte(testKey), "dashboard-session")}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Add(c.sign("shop", "id", now.Add(time.Hour)))
	f.Add("v1.c2hvcA.id.1.x")
	f.Add("....")
	f.Fuzz(func(t *testing.T, v string) {
		id, ok := c.open(v, "shop", now)
		if !ok {
			return
		}
		// Whatever opens is exactly what sign produces for its fields.
		exp, err := strconv.ParseInt(strings.Split(v, ".")[3], 10, 64)
		if err != nil || c.sign("shop", id, time.Unix(exp, 0)) != v {
			t.Errorf("opened a cookie sign never made: %q", v)
		}
	})
}

func FuzzOpenOIDCFlow(f *testing.F) {
	l := &oidcLogin{flowKey: deriveKey([]byte(testKey), "dashboard-oidc")}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Add(l.sealFlow(oidcFlow{State: "s", Nonce: "n", Verifier: "v", Expires: now.Add(time.Minute).Unix()}))
	f.Add("e30.")
	f.Fuzz(func(t *testing.T, v string) {
		if fl, ok := l.openFlow(v, now); ok && l.sealFlow(fl) != v {
			t.Errorf("opened a flow sealFlow never made: %q", v)
		}
	})
}
