package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forwarder"
	"github.com/trackstack/trackstack/runtime/service"
	"github.com/trackstack/trackstack/runtime/store"
)

const forwardAbout = `Runs the forwarder of one Destination: follows the site's events in the store,
records a delivery for every event the Destination's mapping takes (or the platform's
default mapping), and sends them server-side in batches, retrying transient failures with
backoff. Serves /healthz, /readyz (fails while the store fails or the platform rejects
the credentials, with the reason in the body) and /metrics.

A new Destination starts at its creation time; --backfill-since sends earlier events
too (events already delivered are not sent again). A paused Destination sends nothing
and keeps its place. Credentials are read from the files in the Destination's
credentialsDir (the mounted Secret).

--replay makes failed deliveries pending again (all, or one with --event-id), prints
how many as JSON and exits; the running forwarder sends them.`

// forwardFlags are the flags of forward.
type forwardFlags struct {
	config, root, destination, listen string
	backfillSince, eventID            string
	replay, skipMigrations            bool
	shutdownTimeout                   time.Duration
	logLevel                          slog.Level
}

func runForward(ctx context.Context, e *env, args []string) int {
	var o forwardFlags
	f := newFlagSet(e, "forward", "trackstack forward --destination NAME [flags]", forwardAbout)
	configFlag(f, &o.config)
	rootFlag(f, &o.root)
	f.stringVar(&o.destination, "destination", "TRACKSTACK_DESTINATION", "", "the Destination to forward to (its name in the configuration); required")
	f.stringVar(&o.listen, "listen", "TRACKSTACK_LISTEN", ":8080", "address to serve health and metrics on, host:port")
	f.stringVar(&o.backfillSince, "backfill-since", "", "", "also send events received since this time (RFC 3339 or YYYY-MM-DD, UTC), moving the Destination's place back")
	f.boolVar(&o.replay, "replay", "", false, "make failed deliveries pending again and exit")
	f.stringVar(&o.eventID, "event-id", "", "", "with --replay: only this event")
	skipMigrationsFlag(f, &o.skipMigrations)
	shutdownTimeoutFlag(f, &o.shutdownTimeout, "the batches in flight")
	f.logLevelVar(&o.logLevel)
	if code, ok := f.parse(args); !ok {
		return code
	}
	since, err := parseSince(o.backfillSince)
	if err != nil {
		code, _ := f.usageError(err.Error())
		return code
	}
	if o.destination == "" {
		code, _ := f.usageError("--destination is required")
		return code
	}
	if o.eventID != "" && !o.replay {
		code, _ := f.usageError("--event-id goes with --replay")
		return code
	}
	rt, code, ok := f.runtimeConfig(o.config, o.root)
	if !ok {
		return code
	}
	d, ok := rt.Destination(o.destination)
	if !ok {
		code, _ := f.usageError(fmt.Sprintf("destination %q is not in %s (it has: %s)", o.destination, o.config, destinationNames(rt)))
		return code
	}
	log := newLogger(e.stderr, o.logLevel).With("cmd", "forward", "site", rt.Site.Name, "destination", d.Name, "type", d.Type)
	st, code := openForwardStore(ctx, log, rt)
	if st == nil {
		return code
	}
	defer st.Close()
	if o.replay {
		return replay(ctx, e, log, st, rt.Site.Name, d.Name, o.eventID)
	}
	return forward1(ctx, log, o, rt, d, st, since)
}

// forwardStore is a store that forwarders can use.
type forwardStore interface {
	store.Store
	forward.Store
}

func openForwardStore(ctx context.Context, log *slog.Logger, rt *config.Runtime) (forwardStore, int) {
	st, err := service.OpenStore(ctx, rt.Storage)
	if err != nil {
		log.Error("cannot open the store", "err", err)
		return nil, exitFailure
	}
	fs, ok := st.(forwardStore)
	if !ok {
		st.Close()
		log.Error("the store cannot record deliveries", "driver", rt.Storage.Driver)
		return nil, exitFailure
	}
	return fs, exitOK
}

// forward1 runs one destination's forwarder until ctx ends.
func forward1(ctx context.Context, log *slog.Logger, o forwardFlags, rt *config.Runtime, d *config.Destination, st forwardStore, since time.Time) int {
	log.Info("starting", "version", versionString(), "driver", rt.Storage.Driver, "listen", o.listen, "paused", d.Paused)
	reg := service.NewRegistry()
	metrics, err := forward.NewMetrics(reg)
	if err != nil {
		log.Error("cannot register metrics", "err", err)
		return exitFailure
	}
	var migrated atomic.Bool
	migrated.Store(o.skipMigrations)
	var engine atomic.Pointer[forward.Engine]
	ready := func(ctx context.Context) error {
		if !migrated.Load() {
			return fmt.Errorf("store migrations not applied yet")
		}
		if err := st.Ping(ctx); err != nil {
			return fmt.Errorf("the store does not answer: %w", err)
		}
		if eng := engine.Load(); eng != nil {
			return eng.Ready(ctx)
		}
		return nil
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		log.Error("cannot listen", "err", err)
		return exitFailure
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- service.Serve(sctx, ln, forwarder.HealthHandler(ready, reg), service.ServeOptions{Logger: log, ShutdownTimeout: o.shutdownTimeout})
		cancel()
	}()
	code := runEngine(sctx, log, o, rt, d, st, since, metrics, &migrated, &engine)
	cancel()
	if err := <-served; err != nil {
		log.Error("server", "err", err)
		if code == exitOK {
			code = exitFailure
		}
	}
	log.Info("stopped")
	return code
}

// runEngine migrates, opens the cursor and forwards until ctx ends.
func runEngine(ctx context.Context, log *slog.Logger, o forwardFlags, rt *config.Runtime, d *config.Destination, st forwardStore,
	since time.Time, metrics *forward.Metrics, migrated *atomic.Bool, engine *atomic.Pointer[forward.Engine]) int {
	if !o.skipMigrations {
		if err := service.Migrate(ctx, st, log); err != nil {
			if ctx.Err() != nil {
				return exitOK
			}
			log.Error("cannot migrate the store", "err", err)
			return exitFailure
		}
		migrated.Store(true)
	}
	if d.Paused {
		log.Info("destination paused: sending nothing, its place in the events is kept")
		<-ctx.Done()
		return exitOK
	}
	eng, err := forwarder.Engine(forwarder.Options{Config: rt, Store: st, Logger: log, Metrics: metrics}, d)
	if err != nil {
		log.Error("cannot set up the destination", "err", err)
		return exitUsage
	}
	created, err := forwarder.Start(ctx, st, rt.Site.Name, d, since, time.Now())
	if err != nil {
		if ctx.Err() != nil {
			return exitOK
		}
		log.Error("cannot start", "err", err)
		return exitFailure
	}
	switch {
	case !since.IsZero():
		log.Info("backfilling", "since", since)
	case created:
		log.Info("new destination: sending events received since its creation", "since", d.CreatedAt)
	}
	engine.Store(eng)
	log.Info("forwarding")
	eng.Run(ctx) //nolint:errcheck // Run returns nil when ctx ends
	return exitOK
}

// replay makes failed deliveries pending again.
func replay(ctx context.Context, e *env, log *slog.Logger, st forwardStore, site, dest, eventID string) int {
	n, err := st.Replay(ctx, site, dest, eventID)
	if err != nil {
		log.Error("cannot replay", "err", err)
		return exitFailure
	}
	log.Info("replayed failed deliveries", "events", n, "event_id", eventID)
	out, _ := json.Marshal(map[string]any{"site": site, "destination": dest, "replayed": n})
	fmt.Fprintln(e.stdout, string(out))
	return exitOK
}

// parseSince reads --backfill-since.
func parseSince(v string) (time.Time, error) { return parseTimeFlag("--backfill-since", v) }

func destinationNames(rt *config.Runtime) string {
	if len(rt.Destinations) == 0 {
		return "none"
	}
	return strings.Join(rt.DestinationNames(), ", ")
}
