package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trackstack/trackstack/runtime/collect"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/service"
)

const collectAbout = `Runs the collector of one site: serves the tracker script ({tracker.path}/t.js),
the browser endpoint ({tracker.path}/e, p.gif), the server-side API (POST /v1/events with
the site's ingest key as bearer token), /healthz, /readyz (the store answers and migrations
are applied) and /metrics, and writes events to the store named by the configuration.

It reads the runtime configuration the operator renders into the site's ConfigMap; the
keys (ingestKey, signingKey, visitorSalt, ipSealingKey) come from the files in its keysDir and the
PostgreSQL URI from storage.dsnFile. At start it applies the store's migrations under the
store's lock (so replicas starting together apply each once), retrying while the database
is unreachable; /readyz fails until they are applied.

On SIGTERM or SIGINT it fails /readyz, waits --drain-delay, stops accepting connections,
answers the requests in flight, commits every accepted event and exits 0.`

// collectFlags are the flags of collect.
type collectFlags struct {
	config, listen, root, trustedProxies string
	debugListen                          string
	skipMigrations                       bool
	drainDelay, shutdownTimeout          time.Duration
	logLevel                             slog.Level
}

func runCollect(ctx context.Context, e *env, args []string) int {
	var o collectFlags
	f := newFlagSet(e, "collect", "trackstack collect [flags]", collectAbout)
	configFlag(f, &o.config)
	f.stringVar(&o.listen, "listen", "TRACKSTACK_LISTEN", ":8080", "address to serve HTTP on, host:port")
	rootFlag(f, &o.root)
	skipMigrationsFlag(f, &o.skipMigrations)
	trustedProxiesFlag(f, &o.trustedProxies)
	f.stringVar(&o.debugListen, "debug-listen", "TRACKSTACK_DEBUG_LISTEN", "",
		"serve Go's profiler (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060; off when empty. Never expose it: profiles show request data")
	f.durationVar(&o.drainDelay, "drain-delay", "TRACKSTACK_DRAIN_DELAY", 0,
		"on shutdown, keep serving this long after /readyz starts failing, so load balancers stop sending first")
	shutdownTimeoutFlag(f, &o.shutdownTimeout, "requests in flight")
	f.logLevelVar(&o.logLevel)
	if code, ok := f.parse(args); !ok {
		return code
	}
	proxies, code, ok := f.proxies(o.trustedProxies)
	if !ok {
		return code
	}
	rt, code, ok := f.runtimeConfig(o.config, o.root)
	if !ok {
		return code
	}
	log := newLogger(e.stderr, o.logLevel).With("cmd", "collect", "site", rt.Site.Name)
	site, err := ingest.LoadSiteKeys(ingest.Site{Config: rt})
	if err != nil {
		log.Error("cannot read the site's keys", "err", err)
		return exitFailure
	}
	return collectSite(ctx, log, o, site, proxies)
}

// collectSite runs the collector until ctx ends.
func collectSite(ctx context.Context, log *slog.Logger, o collectFlags, site ingest.Site, proxies []netip.Prefix) int {
	rt := site.Config
	log.Info("starting", "version", versionString(), "driver", rt.Storage.Driver, "listen", o.listen)
	st, err := service.OpenStore(ctx, rt.Storage)
	if err != nil {
		log.Error("cannot open the store", "err", err)
		return exitFailure
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Warn("closing the store", "err", err)
		}
	}()
	var migrated atomic.Bool
	migrated.Store(o.skipMigrations)
	c, err := collect.New(collect.Options{
		Sites:          []ingest.Site{site},
		Store:          st,
		Logger:         log,
		TrustedProxies: proxies,
		Ready: func(context.Context) error {
			if !migrated.Load() {
				return errors.New("store migrations not applied yet")
			}
			return nil
		},
	})
	if err != nil {
		log.Error("invalid site configuration", "err", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		c.Close()
		log.Error("cannot listen", "err", err)
		return exitFailure
	}

	// Serve at once, so liveness probes pass while migrations wait for the
	// database; readiness waits for them.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.debugListen != "" {
		if err := serveDebug(sctx, log, o.debugListen); err != nil {
			c.Close()
			ln.Close()
			log.Error("cannot serve the profiler", "err", err)
			return exitFailure
		}
	}
	served := make(chan error, 1)
	go func() {
		served <- service.Serve(sctx, ln, c, service.ServeOptions{
			Logger: log, Drain: c.Drain, DrainDelay: o.drainDelay, ShutdownTimeout: o.shutdownTimeout,
		})
		cancel() // a server that died stops the migrations too
	}()
	code := exitOK
	if !o.skipMigrations {
		if err := service.Migrate(sctx, st, log); err != nil && ctx.Err() == nil {
			log.Error("cannot migrate the store", "err", err)
			code = exitFailure
			cancel()
		} else if err == nil {
			migrated.Store(true)
			log.Info("store migrations applied")
		}
	}
	if err := <-served; err != nil {
		log.Error("http server", "err", err)
		code = exitFailure
	}
	// Every request is answered; commit what the writer still holds.
	queued := c.Queued()
	if err := c.Close(); err != nil {
		log.Error("flushing events", "err", err)
		code = exitFailure
	}
	log.Info("stopped", "flushed_events", queued, "exit_code", code)
	return code
}

func configFlag(f *flagSet, p *string) {
	f.stringVar(p, "config", "TRACKSTACK_CONFIG", path.Join(config.ConfigDir, config.FileName),
		"runtime configuration file (the site's ConfigMap, as the operator renders it)")
}

// skipMigrationsFlag adds --skip-migrations.
func skipMigrationsFlag(f *flagSet, p *bool) {
	f.boolVar(p, "skip-migrations", "TRACKSTACK_SKIP_MIGRATIONS", false,
		"do not apply the store's migrations at start (when \"trackstack migrate\" runs them)")
}

// trustedProxiesFlag adds --trusted-proxies.
func trustedProxiesFlag(f *flagSet, p *string) {
	f.stringVar(p, "trusted-proxies", "TRACKSTACK_TRUSTED_PROXIES", "",
		"comma-separated CIDRs of proxies (load balancers, ingress controllers) whose X-Forwarded-For is believed")
}

// shutdownTimeoutFlag adds --shutdown-timeout; what is what it waits for.
func shutdownTimeoutFlag(f *flagSet, p *time.Duration, what string) {
	f.durationVar(p, "shutdown-timeout", "TRACKSTACK_SHUTDOWN_TIMEOUT", 25*time.Second, "on shutdown, how long to wait for "+what)
}

func rootFlag(f *flagSet, p *string) {
	f.stringVar(p, "root", "TRACKSTACK_ROOT", "",
		"resolve --config and the absolute paths in the configuration (keys, storage, credentials) under this directory, as if it were /; for running a pod's mounted files outside the pod")
}

// runtimeConfig loads the configuration for a subcommand; a bad file is a
// usage error (exit 2), reported through f. ok is false when the command
// is over with code.
func (f *flagSet) runtimeConfig(file, root string) (rt *config.Runtime, code int, ok bool) {
	rt, err := loadConfig(file, root)
	if err != nil {
		code, _ = f.usageError(err.Error())
		return nil, code, false
	}
	return rt, exitOK, true
}

// proxies parses --trusted-proxies; a bad CIDR is a usage error.
func (f *flagSet) proxies(v string) (p []netip.Prefix, code int, ok bool) {
	p, err := parsePrefixes(v)
	if err != nil {
		code, _ = f.usageError(err.Error())
		return nil, code, false
	}
	return p, exitOK, true
}

// loadConfig reads the runtime configuration, with its paths under root.
func loadConfig(file, root string) (*config.Runtime, error) {
	rt, err := config.Load(rebase(root, file))
	if err != nil {
		return nil, err
	}
	rt.Site.KeysDir = rebase(root, rt.Site.KeysDir)
	rt.Storage.DSNFile = rebase(root, rt.Storage.DSNFile)
	rt.Storage.SQLitePath = rebase(root, rt.Storage.SQLitePath)
	for i := range rt.Destinations {
		rt.Destinations[i].CredentialsDir = rebase(root, rt.Destinations[i].CredentialsDir)
	}
	return rt, nil
}

// rebase puts an absolute path under root; relative paths and an empty
// root are left alone.
func rebase(root, p string) string {
	if root == "" || root == "/" || p == "" || !path.IsAbs(p) {
		return p
	}
	return path.Join(root, p)
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR such as 10.0.0.0/8", part)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
