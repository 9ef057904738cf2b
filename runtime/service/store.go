package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// OpenStore opens the store a configuration names: PostgreSQL with the URI
// read from storage.dsnFile, or the SQLite file storage.sqlitePath (its
// directory is created). Errors never include the URI: it holds a password.
func OpenStore(ctx context.Context, s config.Storage) (store.Store, error) {
	switch s.Driver {
	case config.DriverPostgres:
		b, err := os.ReadFile(s.DSNFile)
		if err != nil {
			return nil, fmt.Errorf("while reading the PostgreSQL URI: %w", err)
		}
		dsn := strings.TrimSpace(string(b))
		if dsn == "" {
			return nil, fmt.Errorf("while reading the PostgreSQL URI: %s is empty", s.DSNFile)
		}
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("while opening PostgreSQL (URI from %s): %w", s.DSNFile, err)
		}
		return st, nil
	case config.DriverSQLite:
		if err := os.MkdirAll(filepath.Dir(s.SQLitePath), 0o700); err != nil {
			return nil, fmt.Errorf("while creating the SQLite directory: %w", err)
		}
		return sqlite.Open(ctx, s.SQLitePath)
	}
	return nil, fmt.Errorf("storage driver %q is not %s or %s", s.Driver, config.DriverPostgres, config.DriverSQLite)
}

// Migrate applies the store's migrations (under the store's own lock, so
// replicas starting together apply each once). While the database cannot
// be reached it retries with backoff until ctx ends, because in a cluster
// the database often starts beside the collector.
func Migrate(ctx context.Context, st store.Store, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait := 500 * time.Millisecond
	for {
		err := st.Migrate(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrUnavailable) || ctx.Err() != nil {
			return fmt.Errorf("while migrating the store: %w", err)
		}
		log.Warn("store unavailable, retrying migrations", "retry_in", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("while migrating the store: %w", errors.Join(err, ctx.Err()))
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Second)
	}
}
