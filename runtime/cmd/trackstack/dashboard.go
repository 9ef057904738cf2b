package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/dashboard"
	"github.com/trackstack/trackstack/runtime/dashboard/auth"
	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/retention"
	"github.com/trackstack/trackstack/runtime/service"
	"github.com/trackstack/trackstack/runtime/store"
)

const dashboardAbout = `Runs the dashboard of one site: sign-in (the site's admin password, or the OpenID Connect
issuer configured in spec.dashboard.oidc), the report pages under /sites/{site}/ and the
JSON and CSV API under /api/v1/sites/{site}/ (session cookie, or HTTP basic auth as user
admin for scripts), /healthz, /readyz and /metrics (signed in).

It reads the runtime configuration the operator renders into the site's ConfigMap; the
admin password and signing key come from the files in its keysDir, and only a hash of the
password is kept in memory. Sign-ins, failed sign-ins and logouts are kept in the store's
audit log, listed on /sites/{site}/audit. Behind an Ingress, pass --trusted-proxies so that failed
sign-ins are counted per real client address.`

// dashboardFlags are the flags of dashboard.
type dashboardFlags struct {
	config, root, listen, trustedProxies string
	insecureCookies, skipMigrations      bool
	shutdownTimeout                      time.Duration
	logLevel                             slog.Level
}

func runDashboard(ctx context.Context, e *env, args []string) int {
	var o dashboardFlags
	f := newFlagSet(e, "dashboard", "trackstack dashboard [flags]", dashboardAbout)
	configFlag(f, &o.config)
	rootFlag(f, &o.root)
	f.stringVar(&o.listen, "listen", "TRACKSTACK_LISTEN", ":8080", "address to serve HTTP on, host:port")
	trustedProxiesFlag(f, &o.trustedProxies)
	f.boolVar(&o.insecureCookies, "insecure-cookies", "TRACKSTACK_INSECURE_COOKIES", false,
		"send session cookies without the Secure flag (only for a dashboard on plain-http localhost)")
	skipMigrationsFlag(f, &o.skipMigrations)
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
	log := newLogger(e.stderr, o.logLevel).With("cmd", "dashboard", "site", rt.Site.Name)
	log.Info("starting", "version", versionString(), "driver", rt.Storage.Driver, "listen", o.listen)
	st, err := service.OpenStore(ctx, rt.Storage)
	if err != nil {
		log.Error("cannot open the store", "err", err)
		return exitFailure
	}
	defer st.Close()
	auditLog, ok := st.(store.AuditLog)
	if !ok {
		log.Error("the store keeps no audit log", "driver", rt.Storage.Driver)
		return exitFailure
	}
	guard, err := siteGuard(rt, o, proxies, &dashboard.StoreAudit{Log: auditLog, Logger: log}, log)
	if err != nil {
		log.Error("cannot set up sign-in", "err", err)
		return exitFailure
	}
	return serveDashboard(ctx, log, o, rt, st, auditLog, guard)
}

// siteGuard builds the sign-in of one site from its keys; it records
// sign-ins, failures and logouts in audit.
func siteGuard(rt *config.Runtime, o dashboardFlags, proxies []netip.Prefix, audit auth.Audit, log *slog.Logger) (*auth.Guard, error) {
	a, err := auth.New(auth.Options{
		Site: rt.Site.Name, KeysDir: rt.Site.KeysDir, PublicURL: rt.Site.DashboardURL,
		InsecureCookies: o.insecureCookies, OIDC: auth.OIDCFromConfig(rt.Dashboard),
		ClientIP: ingest.ClientIPFunc(proxies), Audit: audit, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return auth.NewGuard(a)
}

// serveDashboard serves st's reports and audit log until ctx ends.
func serveDashboard(ctx context.Context, log *slog.Logger, o dashboardFlags, rt *config.Runtime, st store.Store, audit store.AuditLog, guard *auth.Guard) int {
	analytics, ok := st.(store.Analytics)
	if !ok {
		log.Error("the store cannot answer reports", "driver", rt.Storage.Driver)
		return exitFailure
	}
	reg := service.NewRegistry()
	// The retention CronJob's pod is gone before anything scrapes it: the
	// dashboard exports the stored result of its last run.
	if rs, ok := st.(store.Retention); ok {
		if err := reg.Register(retention.LastRunCollector{Store: rs, Site: rt.Site.Name}); err != nil {
			log.Error("cannot register metrics", "err", err)
			return exitFailure
		}
	}
	var migrated atomic.Bool
	migrated.Store(o.skipMigrations)
	h := dashboard.New(dashboard.Options{
		Sites: []dashboard.Site{dashboard.SiteOf(rt)},
		Store: analytics, Audit: audit, Guard: guard, Logger: log, Registry: reg,
		Ready: func(ctx context.Context) error {
			if !migrated.Load() {
				return errors.New("store migrations not applied yet")
			}
			return st.Ping(ctx)
		},
	})
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		log.Error("cannot listen", "err", err)
		return exitFailure
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- service.Serve(sctx, ln, h, service.ServeOptions{Logger: log, ShutdownTimeout: o.shutdownTimeout})
		cancel()
	}()
	code := exitOK
	if !o.skipMigrations {
		if err := service.Migrate(sctx, st, log); err != nil && ctx.Err() == nil {
			log.Error("cannot migrate the store", "err", err)
			code = exitFailure
			cancel()
		} else if err == nil {
			migrated.Store(true)
		}
	}
	// The rollups need the migrated schema; they stop before the store
	// closes.
	rolled := make(chan struct{})
	go func() {
		defer close(rolled)
		if migrated.Load() {
			service.RollUp(sctx, st, []string{rt.Site.Name}, service.RollUpEvery, log)
		}
	}()
	defer func() { cancel(); <-rolled }()
	if err := <-served; err != nil {
		log.Error("server", "err", fmt.Errorf("serving: %w", err))
		code = exitFailure
	}
	log.Info("stopped")
	return code
}
