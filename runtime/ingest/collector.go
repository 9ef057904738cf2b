package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/throttle"
)

// EventWriter stores events. It returns how many were new (the rest were
// duplicates of stored (site, event_id)); store.ErrUnavailable when it
// cannot take them now. It must not keep events after returning.
type EventWriter interface {
	Write(ctx context.Context, events []event.Event) (inserted int, err error)
}

// Options are the collector's dependencies and settings.
type Options struct {
	// Sites are the sites served, by Config.Site.Name; keys must be loaded
	// (see LoadSiteKeys).
	Sites []Site
	// Writer stores accepted events. Required.
	Writer EventWriter
	// Script serves the tracker's files: GET/HEAD of any other name under
	// {tracker.path} (t.js, x.js, tcf.js, h.js; see runtime/tracker.Handler,
	// which tells sites apart by ?site=). nil answers 404 there.
	Script http.Handler
	// Ready reports readiness for /readyz (e.g. a store ping); nil is
	// always ready.
	Ready func(context.Context) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Logger receives warnings and errors; nil discards.
	Logger *slog.Logger
	// Registry receives the metrics and is served on /metrics; nil creates
	// a private one.
	Registry *prometheus.Registry
	// Limits, when set, are every site's rate limits, in place of the
	// limits each site's configuration sets (tests and benchmarks).
	Limits *Limits
	// TrustedProxies are the proxies (load balancers, ingress controllers)
	// whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// UAParser parses user agents; nil creates one with the default cache.
	UAParser *enrich.UAParser
	// WriteTimeout bounds a Write; past it the request is answered 503.
	// Default 5s.
	WriteTimeout time.Duration
	// BodyTimeout bounds reading a request body, so slow clients cannot
	// hold a handler. Default 10s.
	BodyTimeout time.Duration
	// SessionCacheSize bounds the remembered visitor sessions; default
	// DefaultSessionCacheSize.
	SessionCacheSize int
}

// Collector is the collector's http.Handler. Build it with New.
type Collector struct {
	writer       EventWriter
	script       http.Handler
	ready        func(context.Context) error
	now          func() time.Time
	log          *slog.Logger
	registry     *prometheus.Registry
	metricsH     http.Handler
	limits       *Limits // overrides the sites' own; nil: each site's
	trusted      []netip.Prefix
	ua           *enrich.UAParser
	writeTimeout time.Duration
	bodyTimeout  time.Duration

	metrics *metrics
	// keyFailures throttles clients that send wrong ingest keys.
	keyFailures *throttle.Failures
	sessions    *sessions
	decoders    sync.Pool // *decoder

	sites    atomic.Pointer[siteTable]
	draining atomic.Bool
	// mu serializes SetSites, which reuses per-site metric series.
	mu sync.Mutex
}

// siteTable is the immutable routing state, swapped whole on reload.
type siteTable struct {
	byName map[string]*siteState
	// byPath lists the sites served under each tracker path.
	byPath map[string][]*siteState
}

// New builds a collector.
func New(o Options) (*Collector, error) {
	if o.Writer == nil {
		return nil, errors.New("ingest: Options.Writer is required")
	}
	c := &Collector{
		writer:       o.Writer,
		script:       o.Script,
		ready:        o.Ready,
		now:          o.Now,
		log:          o.Logger,
		registry:     o.Registry,
		trusted:      o.TrustedProxies,
		ua:           o.UAParser,
		writeTimeout: o.WriteTimeout,
		bodyTimeout:  o.BodyTimeout,
		sessions:     newSessions(o.SessionCacheSize),
	}
	c.decoders.New = func() any { return newDecoder() }
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.registry == nil {
		c.registry = prometheus.NewRegistry()
	}
	if c.ua == nil {
		c.ua = enrich.NewUAParser(0)
	}
	if c.writeTimeout <= 0 {
		c.writeTimeout = 5 * time.Second
	}
	if c.bodyTimeout <= 0 {
		c.bodyTimeout = 10 * time.Second
	}
	c.limits = o.Limits
	c.keyFailures = throttle.New(0, 0, 0)
	m, err := newMetrics(c.registry)
	if err != nil {
		return nil, fmt.Errorf("registering ingest metrics: %w", err)
	}
	c.metrics = m
	c.metricsH = promhttp.HandlerFor(c.registry, promhttp.HandlerOpts{Registry: c.registry})
	if err := c.SetSites(o.Sites); err != nil {
		return nil, err
	}
	return c, nil
}

// SetSites replaces the served sites (on a config reload) without dropping
// requests in flight. Each site gets the rate limits of its configuration
// (unless Options.Limits overrides them); their buckets start full again.
func (c *Collector) SetSites(sites []Site) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &siteTable{byName: make(map[string]*siteState, len(sites)), byPath: make(map[string][]*siteState)}
	for _, s := range sites {
		st, err := newSiteState(s, c.siteLimits(s), c.metrics)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if _, dup := t.byName[st.name]; dup {
			return fmt.Errorf("ingest: site %s configured twice", st.name)
		}
		t.byName[st.name] = st
		t.byPath[st.path] = append(t.byPath[st.path], st)
	}
	if old := c.sites.Load(); old != nil {
		for name := range old.byName {
			if _, kept := t.byName[name]; !kept {
				c.metrics.dropSite(name)
			}
		}
	}
	c.sites.Store(t)
	return nil
}

// siteLimits are the limits of a site: the override, or its configuration's.
func (c *Collector) siteLimits(s Site) Limits {
	if c.limits != nil {
		return *c.limits
	}
	if s.Config == nil {
		return DefaultLimits()
	}
	return LimitsFor(s.Config.EffectiveLimits())
}

// Drain makes /readyz fail from now on, so load balancers stop sending
// requests while the process finishes the ones in flight (call it on
// SIGTERM, before http.Server.Shutdown). Other endpoints keep serving.
func (c *Collector) Drain() { c.draining.Store(true) }

// ServeHTTP routes a request.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch p {
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n") //nolint:errcheck // the client is gone
		return
	case "/readyz":
		c.serveReady(w, r)
		return
	case "/metrics":
		c.metricsH.ServeHTTP(w, r)
		return
	case "/v1/events":
		c.serveServerAPI(w, r)
		return
	}
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	prefix, leaf := p[:i], p[i+1:]
	sites := c.sites.Load().byPath[prefix]
	if len(sites) == 0 {
		http.NotFound(w, r)
		return
	}
	switch leaf {
	case "e":
		c.serveBatch(w, r, sites)
	case "p.gif":
		c.servePixel(w, r, sites)
	default:
		// Everything else under the path is the tracker's: t.js, x.js,
		// tcf.js and whatever it adds.
		if c.script == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r)
			return
		}
		c.script.ServeHTTP(w, r)
	}
}

func (c *Collector) serveReady(w http.ResponseWriter, r *http.Request) {
	if c.draining.Load() {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	if c.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := c.ready(ctx); err != nil {
			c.log.Warn("not ready", "err", err)
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ready\n") //nolint:errcheck // the client is gone
}

// fail answers an error and counts it.
func (c *Collector) fail(w http.ResponseWriter, source string, status int, msg string) {
	c.metrics.request(source, status)
	writeError(w, status, msg)
}
