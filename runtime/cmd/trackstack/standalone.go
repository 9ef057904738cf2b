package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/trackstack/trackstack/runtime/standalone"
)

const standaloneAbout = `Runs the whole stack in one process without a cluster, on SQLite: the collector of every
TrackingSite in the files, the forwarder of every unpaused Destination, a demo page, an
events page and the events API, on one address.

It reads TrackingSite, Destination and RetentionPolicy documents (the same kinds as in a
cluster) and kind: Secret documents (stringData or data) holding Destination credentials,
from YAML files or directories (*.yaml, *.yml, recursively). The data directory keeps the
SQLite database, each site's keys (generated on first start and shown once) and the admin
password. TRACKSTACK_INGEST_KEY sets the ingest key of every site and
TRACKSTACK_ADMIN_PASSWORD the admin password instead; neither is written to disk.

  GET /                                demo page of the first site (/try/<site>/ for the others)
  GET /sites/<site>/                   the site's dashboard (sign in as admin; reports, API under /api/v1/sites/<site>/)
  GET /admin/events?site=<site>        newest events as a page (basic auth, user admin: the browser asks)
  GET /api/v1/sites/<site>/events      newest events as JSON (basic auth, user admin; ?limit=1..1000, default 50)
  GET /metrics                         Prometheus metrics (basic auth, user admin: it names the sites)
  POST /v1/events, {tracker.path}/...  the collector, as in a cluster; /healthz /readyz

Example: trackstack standalone -f config/samples/standalone --data ./.data --listen 127.0.0.1:8080`

func runStandalone(ctx context.Context, e *env, args []string) int {
	var (
		files        stringList
		listen, data string
		demoData     bool
		shutdown     time.Duration
		level        slog.Level
	)
	f := newFlagSet(e, "standalone", "trackstack standalone -f <files or dirs> [flags]", standaloneAbout)
	f.fs.Var(&files, "f", "YAML file or directory to read; repeat or separate with commas (required)")
	f.stringVar(&listen, "listen", "TRACKSTACK_LISTEN", "127.0.0.1:8080", "address of the collector, demo page and API, host:port")
	f.stringVar(&data, "data", "TRACKSTACK_DATA", ".data", "data directory: SQLite database, keys, credentials")
	f.boolVar(&demoData, "demo-data", "TRACKSTACK_DEMO_DATA", false,
		"on the first start of an empty data directory, fill the first site with a month of generated demo traffic (labelled as demo data)")
	shutdownTimeoutFlag(f, &shutdown, "requests in flight")
	f.logLevelVar(&level)
	if code, ok := f.parse(args); !ok {
		return code
	}
	if len(files) == 0 {
		code, _ := f.usageError("-f is required: the YAML files or directories to read")
		return code
	}
	log := newLogger(e.stderr, level).With("cmd", "standalone")
	s, err := standalone.New(ctx, standalone.Options{
		Files: files, DataDir: data, Listen: listen, DemoData: demoData,
		Getenv: e.getenv, Logger: log, ShutdownTimeout: shutdown,
	})
	if errors.Is(err, standalone.ErrConfig) {
		code, _ := f.usageError(err.Error())
		return code
	}
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitFailure
	}
	log.Info("starting", "version", versionString(), "url", s.URL(), "sites", len(s.Sites()))
	io.WriteString(e.stdout, s.Banner()) //nolint:errcheck // nothing to do about a closed terminal
	if err := s.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}
