package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/trackstack/trackstack/runtime/service"
)

const migrateAbout = `Applies the store's schema migrations and exits: the PostgreSQL database whose URI is
in storage.dsnFile, or the SQLite file storage.sqlitePath, of the runtime configuration.
Migrations run under the store's lock, so concurrent runs (and collectors starting at the
same time) apply each one once. While the database is unreachable it retries, up to
--timeout. Exits 0 when the schema is current.`

func runMigrate(ctx context.Context, e *env, args []string) int {
	var (
		file, root string
		timeout    time.Duration
		level      slog.Level
	)
	f := newFlagSet(e, "migrate", "trackstack migrate [flags]", migrateAbout)
	configFlag(f, &file)
	rootFlag(f, &root)
	f.durationVar(&timeout, "timeout", "TRACKSTACK_MIGRATE_TIMEOUT", 5*time.Minute,
		"give up when the migrations have not been applied within this time")
	f.logLevelVar(&level)
	if code, ok := f.parse(args); !ok {
		return code
	}
	rt, code, ok := f.runtimeConfig(file, root)
	if !ok {
		return code
	}
	log := newLogger(e.stderr, level).With("cmd", "migrate", "site", rt.Site.Name)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := service.OpenStore(ctx, rt.Storage)
	if err != nil {
		log.Error("cannot open the store", "err", err)
		return exitFailure
	}
	defer st.Close()
	if err := service.Migrate(ctx, st, log); err != nil {
		log.Error("cannot migrate the store", "err", err)
		return exitFailure
	}
	log.Info("store migrations applied", "driver", rt.Storage.Driver)
	return exitOK
}
