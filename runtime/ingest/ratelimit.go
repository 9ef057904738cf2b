package ingest

import (
	"net/netip"
	"time"

	"golang.org/x/time/rate"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/throttle"
)

// Limits are a site's rate limits in one collector replica. A rate of 0
// means no limit. A site's come from its configuration (LimitsFor);
// Options.Limits overrides them for every site.
type Limits struct {
	// IPRequestsPerSecond and IPBurst limit browser requests (batches and
	// pixels) per client IP; IPv6 clients are grouped by /64, which one
	// host controls. Over the limit: 429 with Retry-After.
	IPRequestsPerSecond float64
	IPBurst             int
	// BrowserEventsPerSecond and BrowserBurst limit browser events per site.
	BrowserEventsPerSecond float64
	BrowserBurst           int
	// ServerEventsPerSecond and ServerBurst limit /v1/events events per
	// site, apart from browser traffic, so a flood of page views cannot
	// starve a backend's sales.
	ServerEventsPerSecond float64
	ServerBurst           int
	// BotEventsPerSecond and BotBurst are the behaviour rule for bots: a
	// client IP sending events faster than this (sustained, after a burst of
	// BotBurst) is a script, not a person, and its excess events are dropped
	// as bots. Set it well above what an office behind one NAT address
	// produces.
	BotEventsPerSecond float64
	BotBurst           int
	// MaxTrackedIPs bounds the per-IP limiter table (an LRU); an evicted
	// IP starts again with a full bucket.
	MaxTrackedIPs int
}

// DefaultLimits are the limits of a site that configures none
// (config.DefaultLimits).
func DefaultLimits() Limits { return LimitsFor(config.DefaultLimits()) }

// LimitsFor turns a site's configured limits into a Limits; what the
// configuration does not set (the bot burst, the IP table size) is fixed.
func LimitsFor(l config.Limits) Limits {
	return Limits{
		IPRequestsPerSecond:    float64(l.IPRequestsPerSecond),
		IPBurst:                int(l.IPBurst),
		BrowserEventsPerSecond: float64(l.BrowserEventsPerSecond),
		BrowserBurst:           int(l.BrowserBurst),
		ServerEventsPerSecond:  float64(l.ServerEventsPerSecond),
		ServerBurst:            int(l.ServerBurst),
		BotEventsPerSecond:     float64(l.BotEventsPerSecond),
		BotBurst:               500,
		MaxTrackedIPs:          throttle.DefaultMaxClients,
	}
}

// newLimiter returns a token bucket. A rate or a burst of 0 is unlimited
// (as the TrackingSite's limits say); a burst below minBurst is raised to
// it, because a bucket smaller than one batch would refuse that batch
// forever.
func newLimiter(perSecond float64, burst, minBurst int) *rate.Limiter {
	if perSecond <= 0 || burst <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(burst, minBurst, 1))
}

// allowN takes n tokens or reports how long to wait for them.
func allowN(l *rate.Limiter, now time.Time, n int) (bool, time.Duration) {
	if l.Limit() == rate.Inf {
		return true, 0
	}
	r := l.ReserveN(now, n)
	if !r.OK() {
		return false, time.Second
	}
	d := r.DelayFrom(now)
	if d == 0 {
		return true, 0
	}
	r.CancelAt(now)
	return false, d
}

// ipLimiters holds the per-IP buckets of a site.
type ipLimiters struct {
	clients *throttle.Clients[*ipState]

	reqRate  rate.Limit
	reqBurst int
	botRate  rate.Limit
	botBurst int
}

type ipState struct {
	requests *rate.Limiter
	events   *rate.Limiter
}

func newIPLimiters(l Limits) *ipLimiters {
	il := &ipLimiters{clients: throttle.NewClients[*ipState](l.MaxTrackedIPs), reqRate: rate.Inf, botRate: rate.Inf}
	if l.IPRequestsPerSecond > 0 && l.IPBurst > 0 {
		il.reqRate, il.reqBurst = rate.Limit(l.IPRequestsPerSecond), l.IPBurst
	}
	if l.BotEventsPerSecond > 0 {
		il.botRate, il.botBurst = rate.Limit(l.BotEventsPerSecond), max(l.BotBurst, MaxBrowserEvents)
	}
	return il
}

func (il *ipLimiters) state(ip netip.Addr) *ipState {
	return il.clients.Get(ip, func() *ipState {
		return &ipState{
			requests: rate.NewLimiter(il.reqRate, il.reqBurst),
			events:   rate.NewLimiter(il.botRate, il.botBurst),
		}
	})
}

// allowRequest applies the per-IP request limit.
func (il *ipLimiters) allowRequest(ip netip.Addr, now time.Time) (bool, time.Duration) {
	if il.reqRate == rate.Inf {
		return true, 0
	}
	return allowN(il.state(ip).requests, now, 1)
}

// humanPace applies the bot behaviour rule to n events from ip; false means
// the client is sending faster than a person.
func (il *ipLimiters) humanPace(ip netip.Addr, now time.Time, n int) bool {
	if il.botRate == rate.Inf || n == 0 {
		return true
	}
	return il.state(ip).events.AllowN(now, n)
}
