// Package standalone runs trackstack in one process without a cluster: it
// reads TrackingSite, Destination, RetentionPolicy and Secret documents from
// YAML files (the same kinds as in a cluster), renders each site's runtime
// configuration as the operator would (config.Render), and serves the
// collector of every site, a demo page, the events API, an events page and
// /metrics on one address, storing events in SQLite (WAL) in a data
// directory. The events API, the events page and /metrics answer the admin
// only (HTTP basic auth, Admin); the demo page, which runs the tracker and
// the platforms' pixels, never asks for credentials.
//
// The data directory holds:
//
//	trackstack.db                 the SQLite database (with -wal and -shm files)
//	keys/<site>/ingestKey         bearer token of POST /v1/events for the site
//	keys/<site>/signingKey        signs visitor cookies
//	keys/<site>/visitorSalt       seeds cookieless visitor ids
//	keys/<site>/ipSealingKey      encrypts the raw IP kept for Meta and TikTok (package sealing)
//	adminPassword                 password of user admin (events API, dashboard)
//	credentials/<destination>/…   each Destination's Secret, one file per key
//
// The data directory and every directory in it are mode 0700, every file
// in it 0600, whatever the umask. Keys are generated on first start
// (crypto/rand) and shown once; TRACKSTACK_INGEST_KEY and
// TRACKSTACK_ADMIN_PASSWORD replace the ingest key of every site and the
// admin password without being written.
// Unlike a pod, standalone also accepts browser events from pages on its own
// listen host (the demo page), besides each site's domains.
package standalone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/collect"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/service"
	"github.com/trackstack/trackstack/runtime/store"
)

// Options configure a standalone server.
type Options struct {
	// Files are YAML files or directories.
	Files []string
	// DataDir holds the database, keys and credentials; created if missing.
	DataDir string
	// Listen is the host:port to serve on; port 0 picks a free one.
	Listen string
	// Getenv reads TRACKSTACK_INGEST_KEY and TRACKSTACK_ADMIN_PASSWORD;
	// nil is os.Getenv.
	Getenv func(string) string
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger
	// ShutdownTimeout bounds the wait for requests in flight on shutdown.
	ShutdownTimeout time.Duration
	// DemoData fills the first site with a month of generated traffic
	// when the data directory has no database yet (make run sets it).
	DemoData bool
	// TuneForwarders adjusts every forwarder engine's options (tests
	// shorten its waits); nil keeps the defaults.
	TuneForwarders func(*forward.Options)
}

// Server is a running standalone stack. Build it with New, then Run it.
type Server struct {
	opts      Options
	log       *slog.Logger
	res       *Resources
	keys      *Keys
	sites     []*config.Runtime
	url       string
	ln        net.Listener
	store     store.Store
	collector *collect.Collector
	forward   *forwarders
	retention *retentionJobs
	handler   http.Handler
	// demoSites hold generated demo traffic.
	demoSites []string
}

// New loads the files, prepares the data directory (keys, credentials,
// database with its migrations) and binds the listen address. Errors about
// the files wrap ErrConfig.
func New(ctx context.Context, o Options) (s *Server, err error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := LoadFiles(o.Files)
	if err != nil {
		return nil, err
	}
	if o.DataDir == "" {
		return nil, fmt.Errorf("%w: no data directory", ErrConfig)
	}
	if o.DataDir, err = filepath.Abs(o.DataDir); err != nil {
		return nil, fmt.Errorf("while resolving the data directory: %w", err)
	}
	if err := ownerOnlyDir(o.DataDir); err != nil {
		return nil, err
	}
	s = &Server{opts: o, log: log, res: res}
	names := make([]string, len(res.Sites))
	for i, site := range res.Sites {
		names[i] = site.Name
	}
	if s.keys, err = loadKeys(o.DataDir, names, o.Getenv); err != nil {
		return nil, err
	}
	if err := writeCredentials(o.DataDir, res); err != nil {
		return nil, err
	}
	if s.ln, err = net.Listen("tcp", o.Listen); err != nil {
		return nil, fmt.Errorf("while listening on %s: %w", o.Listen, err)
	}
	// The returns below give a nil *Server: close the one built so far.
	built := s
	defer func() {
		if err != nil {
			built.Close()
		}
	}()
	listenHost := s.setURL()
	storage := config.Storage{Driver: config.DriverSQLite, SQLitePath: filepath.Join(o.DataDir, databaseFile)}
	var sites []ingest.Site
	for i := range res.Sites {
		site := &res.Sites[i]
		rt := renderSite(res, site, o.DataDir, s.url)
		if listenHost != "" && !slices.Contains(rt.Site.Domains, listenHost) {
			rt.Site.Domains = append(rt.Site.Domains, listenHost)
		}
		if err := rt.Validate(); err != nil {
			return nil, fmt.Errorf("%w: TrackingSite %s (%s): %w", ErrConfig, site.Name, res.Source("TrackingSite", site.Name), err)
		}
		if site.Spec.Storage.Postgres.SecretRef.Name != "" {
			log.Info("spec.storage is ignored in standalone mode: events go to the SQLite database in the data directory", "site", site.Name)
		}
		k := s.keys.Sites[site.Name]
		s.sites = append(s.sites, rt)
		sites = append(sites, ingest.Site{Config: rt, IngestKey: k.Ingest, SigningKey: k.Signing, VisitorSalt: k.VisitorSalt, IPSealingKey: k.IPSealing})
	}
	_, statErr := os.Stat(storage.SQLitePath)
	fresh := errors.Is(statErr, os.ErrNotExist)
	if s.store, err = service.OpenStore(ctx, storage); err != nil {
		return nil, err
	}
	if err := s.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("while migrating %s: %w", storage.SQLitePath, err)
	}
	if s.demoSites, err = s.seedDemo(ctx, fresh); err != nil {
		return nil, err
	}
	reg := service.NewRegistry()
	if s.forward, err = s.newForwarders(ctx, reg); err != nil {
		return nil, err
	}
	if s.retention, err = s.newRetentionJobs(reg); err != nil {
		return nil, err
	}
	// A platform rejecting credentials shows in the logs and metrics, not
	// in /readyz: collecting must not stop because a token expired.
	if s.collector, err = collect.New(collect.Options{Sites: sites, Store: s.store, Logger: log, Registry: reg}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	dash, err := s.newDashboard()
	if err != nil {
		return nil, err
	}
	s.handler = s.routes(dash)
	return s, nil
}

// ownerOnlyDir creates the data directory with mode 0700, or gives an
// existing one that mode: it holds keys and the events, for the owner only.
func ownerOnlyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("while creating the data directory: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("while checking the data directory: %w", err)
	}
	if info.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("while restricting the data directory %s to its owner (mode 0700): %w", dir, err)
		}
	}
	return nil
}

// setURL sets the collector's public URL from the bound address and returns
// the listen host pages may send events from ("" when listening on every
// interface: then no host is implied).
func (s *Server) setURL() string {
	host, _, _ := net.SplitHostPort(s.opts.Listen)
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	if a, err := netip.ParseAddr(host); host == "" || (err == nil && a.IsUnspecified()) {
		s.url = "http://" + net.JoinHostPort("localhost", port)
		return ""
	}
	s.url = "http://" + net.JoinHostPort(host, port)
	return host
}

// routes are the events API, the events page and /metrics (all for the
// admin only), the demo page and, for everything else, the collector
// (tracker files, browser endpoint, /v1/events, health).
func (s *Server) routes(dash http.Handler) http.Handler {
	mux := http.NewServeMux()
	known := map[string]bool{}
	for _, rt := range s.sites {
		known[rt.Site.Name] = true
	}
	admin := NewAdmin(s.keys.AdminPassword)
	mux.Handle("GET /api/v1/sites/{site}/events", &EventsAPI{Store: s.store, Sites: known, Admin: admin, Logger: s.log})
	mux.Handle("GET /admin/events", NewEventsPage(s.store, s.sites, admin, s.log))
	// /metrics names the sites and counts their events, on the listener of
	// the public endpoints: the admin's only, like the events.
	mux.Handle("/metrics", admin.Require(s.collector))
	NewDemo(s.sites).Register(mux)
	// The dashboard: pages, reports, sign-in and its assets.
	for _, p := range []string{"/sites/", "/api/v1/sites/", "/login", "/login/", "/logout", "/assets/"} {
		mux.Handle(p, dash)
	}
	mux.Handle("/", s.collector)
	return mux
}

// URL is the base URL the server is reached at, e.g. http://127.0.0.1:8080.
func (s *Server) URL() string { return s.url }

// Handler is the server's HTTP handler (for tests that skip the listener).
func (s *Server) Handler() http.Handler { return s.handler }

// Sites are the rendered runtime configurations, in file order.
func (s *Server) Sites() []*config.Runtime { return s.sites }

// siteNames are the sites' names, in file order.
func (s *Server) siteNames() []string {
	names := make([]string, len(s.sites))
	for i, rt := range s.sites {
		names[i] = rt.Site.Name
	}
	return names
}

// Keys are the keys in effect.
func (s *Server) Keys() *Keys { return s.keys }

// Run serves until ctx ends, then shuts down gracefully: requests in
// flight are answered, accepted events committed, the database closed.
func (s *Server) Run(ctx context.Context) error {
	fctx, stopForwarders := context.WithCancel(context.WithoutCancel(ctx))
	forwarded := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.retention.run(fctx, s)
		}()
		s.forward.run(fctx)
		wg.Wait()
		close(forwarded)
	}()
	rolled := make(chan struct{})
	go func() {
		service.RollUp(fctx, s.store, s.siteNames(), service.RollUpEvery, s.log)
		close(rolled)
	}()
	err := service.Serve(ctx, s.ln, s.handler, service.ServeOptions{
		Logger: s.log, Drain: s.collector.Drain, ShutdownTimeout: s.opts.ShutdownTimeout,
	})
	s.ln = nil // Serve closed it
	// The forwarders stop after the collector has answered every request,
	// each recording what its batch in flight achieved; the dashboard's
	// rollups stop with them, before the store closes.
	stopForwarders()
	<-forwarded
	<-rolled
	return errors.Join(err, s.Close())
}

// Close releases what New acquired without serving: the listener, the
// batch writer (after committing what it holds) and the database. Run
// calls it.
func (s *Server) Close() error {
	var errs []error
	if s.ln != nil {
		errs = append(errs, s.ln.Close())
		s.ln = nil
	}
	if s.collector != nil {
		errs = append(errs, s.collector.Close())
		s.collector = nil
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
		s.store = nil
	}
	return errors.Join(errs...)
}

// renderSite is the runtime configuration of one site of the files, run
// from dataDir and served at url.
func renderSite(res *Resources, site *v1alpha1.TrackingSite, dataDir, url string) *config.Runtime {
	return config.Render(site, res.DestinationsOf(site.Name), res.RetentionPoliciesOf(site.Name), config.RenderOptions{
		Storage:         &config.Storage{Driver: config.DriverSQLite, SQLitePath: filepath.Join(dataDir, databaseFile)},
		KeysDir:         siteKeysDir(dataDir, site.Name),
		CredentialsRoot: filepath.Join(dataDir, credentialsDir),
		CollectorURL:    url,
		DashboardURL:    url,
	})
}

// SiteConfigs renders the runtime configuration of every site of the
// files as a stack run from dataDir keeps it, for the commands that work
// on a standalone stack's data from outside it (retention). They serve
// nothing, so the configurations have no URLs.
func SiteConfigs(files []string, dataDir string) ([]*config.Runtime, error) {
	res, err := LoadFiles(files)
	if err != nil {
		return nil, err
	}
	var out []*config.Runtime
	for i := range res.Sites {
		out = append(out, renderSite(res, &res.Sites[i], dataDir, ""))
	}
	return out, nil
}
