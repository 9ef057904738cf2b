// Package throttle slows the guessing of credentials (ingest keys, admin
// passwords): it counts failed attempts per client address and refuses every
// further attempt, right or wrong, from a client that failed too often, until
// its allowance refills. Refusing right answers too is what makes it work: a
// client that could still tell a right guess apart while throttled would keep
// guessing at full speed.
//
// Clients are told apart by IP address, IPv6 by /64 (what one host
// controls). The table of clients is bounded; the least recently seen are
// forgotten first, which at worst gives an attacker a fresh allowance, never
// locks anyone out for good.
package throttle

import (
	"math"
	"net/netip"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of New's arguments that are zero.
const (
	// DefaultFailuresPerMinute is the sustained rate of failed attempts a
	// client keeps being allowed.
	DefaultFailuresPerMinute = 5
	// DefaultBurst is how many failures in a row a client may have before
	// it is slowed down: enough for a person mistyping, far too few to guess.
	DefaultBurst = 10
	// DefaultMaxClients bounds the table of clients.
	DefaultMaxClients = 100_000
)

// Failures counts failed attempts per client. It is safe for concurrent use.
type Failures struct {
	limit   rate.Limit
	burst   int
	clients *Clients[*rate.Limiter]
}

// New returns a throttle allowing burst failures in a row and then
// failuresPerMinute. Zero arguments take the defaults above.
func New(failuresPerMinute float64, burst, maxClients int) *Failures {
	if failuresPerMinute <= 0 {
		failuresPerMinute = DefaultFailuresPerMinute
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	return &Failures{limit: rate.Limit(failuresPerMinute / 60), burst: burst, clients: NewClients[*rate.Limiter](maxClients)}
}

// Allow reports whether client may attempt a credential now. When it may
// not, retryAfter is how long until it may (at least one second).
func (f *Failures) Allow(client netip.Addr, now time.Time) (ok bool, retryAfter time.Duration) {
	l, seen := f.clients.Lookup(client)
	if !seen {
		return true, 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return true, 0
	}
	wait := time.Duration((1 - tokens) / float64(f.limit) * float64(time.Second))
	return false, max(time.Second, wait.Round(time.Second))
}

// Fail records a failed attempt by client.
func (f *Failures) Fail(client netip.Addr, now time.Time) {
	l := f.clients.Get(client, func() *rate.Limiter { return rate.NewLimiter(f.limit, f.burst) })
	l.AllowN(now, 1)
}

// RetryAfterSeconds is a Retry-After header value for d: whole seconds, at
// least 1.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// Key is the address a client is counted under: IPv4 as is, IPv6 by its
// /64 prefix.
func Key(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}
