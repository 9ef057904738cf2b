// Package collect assembles the collector that `trackstack collect` runs in
// a pod (one site) and `trackstack standalone` runs for all its sites: the
// store behind a batch writer, the ingest handler (runtime/ingest) and the
// tracker's files (runtime/tracker). Serving it, opening the store and
// applying migrations are runtime/service's, which every service shares.
//
// The command-line side (flags, env, signals) lives in runtime/cmd/trackstack;
// this package only wires parts together, so tests build the same collector
// in process.
package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/service"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/batch"
	"github.com/trackstack/trackstack/runtime/tracker"
)

// Options are a Collector's dependencies.
type Options struct {
	// Sites are the sites served, with their keys loaded (ingest.LoadSiteKeys).
	Sites []ingest.Site
	// Store receives the events. The caller opens and closes it.
	Store store.Store
	// Logger receives the collector's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the metrics served on /metrics; nil creates one
	// with the Go runtime and process collectors.
	Registry *prometheus.Registry
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Limits, when set, replace every site's configured rate limits (tests and
	// benchmarks); nil: each site's spec.collector.limits.
	Limits *ingest.Limits
	// Ready, when set, must pass too for /readyz (e.g. migrations applied).
	Ready func(context.Context) error
	// Batch tunes the batch writer; zero values take its defaults.
	Batch batch.Options
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Collector is the collector's http.Handler: the ingest endpoints, the
// tracker's files, /healthz, /readyz and /metrics.
type Collector struct {
	writer   *batch.Writer
	suppress *suppressor
	ingest   *ingest.Collector
	scripts  *scripts
}

// New builds a collector writing to o.Store through a new batch writer.
// Close flushes that writer.
func New(o Options) (*Collector, error) {
	if o.Store == nil {
		return nil, errors.New("collect: Options.Store is required")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := o.Registry
	if reg == nil {
		reg = service.NewRegistry()
	}
	bopts := o.Batch
	wm, err := newWriterMetrics(reg)
	if err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	health := &writeHealth{now: now}
	bopts.OnFlush = chainFlush(bopts.OnFlush, wm.observe, health.observe, logFlushErrors(log))
	w := batch.New(o.Store, bopts)
	if err := wm.watchQueue(reg, w); err != nil {
		w.Close()
		return nil, err
	}
	st := o.Store
	ready := func(ctx context.Context) error {
		if o.Ready != nil {
			if err := o.Ready(ctx); err != nil {
				return err
			}
		}
		if err := health.check(); err != nil {
			return err
		}
		return st.Ping(ctx)
	}
	names := make([]string, len(o.Sites))
	for i, site := range o.Sites {
		names[i] = site.Config.Site.Name
	}
	sup, err := newSuppressor(w, o.Store, names, reg, log)
	if err != nil {
		w.Close()
		return nil, err
	}
	sc := newScripts(o.Sites)
	ic, err := ingest.New(ingest.Options{
		Sites:          o.Sites,
		Writer:         sup,
		Script:         sc,
		Ready:          ready,
		Logger:         log,
		Registry:       reg,
		TrustedProxies: o.TrustedProxies,
		Limits:         o.Limits,
		Now:            o.Now,
	})
	if err != nil {
		sup.close()
		w.Close()
		return nil, fmt.Errorf("while building the ingest handler: %w", err)
	}
	return &Collector{writer: w, suppress: sup, ingest: ic, scripts: sc}, nil
}

// ServeHTTP serves the collector's endpoints.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.ingest.ServeHTTP(w, r) }

// SetSites replaces the served sites (a configuration reload) without
// dropping requests in flight.
func (c *Collector) SetSites(sites []ingest.Site) error {
	if err := c.ingest.SetSites(sites); err != nil {
		return err
	}
	c.scripts.update(sites)
	names := make([]string, len(sites))
	for i, site := range sites {
		names[i] = site.Config.Site.Name
	}
	c.suppress.setSites(names)
	return nil
}

// Drain makes /readyz fail, so load balancers stop sending requests while
// the ones in flight finish. Call it first on shutdown.
func (c *Collector) Drain() { c.ingest.Drain() }

// Queued returns how many accepted events wait for their commit.
func (c *Collector) Queued() int { return c.writer.Queued() }

// Close stops the batch writer after committing every event it accepted.
// Call it once the HTTP server has shut down; it does not close the store.
func (c *Collector) Close() error {
	c.suppress.close()
	return c.writer.Close()
}

// scripts serves the tracker's files. Where one site alone uses a tracker
// path, a request under that path is that site's even without ?site=, so
// the plain snippet works when several sites share one collector on
// different paths; sites sharing a path are told apart by ?site=.
type scripts struct {
	h      *tracker.Handler
	byPath atomic.Pointer[map[string]string]
}

func newScripts(sites []ingest.Site) *scripts {
	s := &scripts{h: tracker.NewHandler()}
	s.update(sites)
	return s
}

func (s *scripts) update(sites []ingest.Site) {
	cfgs := make([]tracker.ScriptConfig, 0, len(sites))
	count := map[string]int{}
	only := map[string]string{}
	for _, site := range sites {
		cfgs = append(cfgs, tracker.ConfigFor(site.Config))
		p := strings.TrimSuffix(site.Config.Tracker.Path, "/")
		count[p]++
		only[p] = site.Config.Site.Name
	}
	for p, n := range count {
		if n > 1 {
			delete(only, p)
		}
	}
	s.h.Update(cfgs...)
	s.byPath.Store(&only)
}

func (s *scripts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("site") == "" {
		if site, ok := (*s.byPath.Load())[path.Dir(r.URL.Path)]; ok {
			s.h.ServeSite(w, r, site)
			return
		}
	}
	s.h.ServeHTTP(w, r)
}
