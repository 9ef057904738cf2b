package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/migration"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestConcurrentMigrate(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	const starts = 4
	var wg sync.WaitGroup
	errs := make([]error, starts)
	for i := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Migrate(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}
	assertMigrationsAppliedOnce(t, dsn)
}

// assertMigrationsAppliedOnce checks that schema_migrations lists every
// embedded migration, by version and file name, and nothing else.
func assertMigrationsAppliedOnce(t *testing.T, dsn string) {
	t.Helper()
	want, err := migration.Load(os.DirFS("."), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := connect(t, dsn).Query(context.Background(), "SELECT version, name FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	type applied struct {
		Version int64
		Name    string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[applied])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("schema_migrations has %d rows %v, want the %d embedded migrations", len(got), got, len(want))
	}
	for i, m := range want {
		if got[i] != (applied{m.Version, m.Name}) {
			t.Errorf("schema_migrations row %d = %v, want %d %s", i, got[i], m.Version, m.Name)
		}
	}
}

// TestMigrateReleasesLock checks that Migrate gives the advisory lock back
// while its store stays open: the lock is per database and per session, so
// another session on the same database must be able to take it at once.
func TestMigrateReleasesLock(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn) // runs Migrate and keeps its pool, and so its sessions, open
	defer s.Close()
	conn := connect(t, dsn)
	var took bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", postgres.MigrateLockKey).Scan(&took); err != nil {
		t.Fatal(err)
	}
	if !took {
		t.Fatal("another session on the same database cannot take the migration lock after Migrate returned")
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", postgres.MigrateLockKey); err != nil {
		t.Fatal(err)
	}
	// A second Migrate on the open store applies nothing again.
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	assertMigrationsAppliedOnce(t, dsn)
}

func TestPartitions(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	partitionOf := func(id string) string {
		t.Helper()
		var rel string
		if err := conn.QueryRow(ctx, "SELECT tableoid::regclass::text FROM events WHERE event_id = $1", id).Scan(&rel); err != nil {
			t.Fatalf("finding the partition of %s: %v", id, err)
		}
		return rel
	}
	name := func(t time.Time) string { return "events_p" + t.UTC().Format("20060102") }

	now := time.Now().UTC()
	for _, d := range []time.Duration{-24 * time.Hour, 0, 24 * time.Hour, 48 * time.Hour} {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", name(now.Add(d))).Scan(&exists); err != nil || !exists {
			t.Errorf("Migrate did not create partition %s (%v)", name(now.Add(d)), err)
		}
	}

	tests := []struct {
		id string
		at time.Time
	}{
		{"72h-ago", now.Add(-72 * time.Hour)},
		{"now", now},
		{"in-5-days", now.Add(5 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if _, err := s.Insert(ctx, []event.Event{storetest.Full("shop", tt.id, tt.at)}); err != nil {
				t.Fatal(err)
			}
			if got, want := partitionOf(tt.id), name(tt.at); got != want {
				t.Errorf("event received at %v is in %s, want %s", tt.at, got, want)
			}
		})
	}

	t.Run("rows in the default partition move out", func(t *testing.T) {
		day := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		// Bypass the store to put a row where a missing partition leaves it.
		if _, err := conn.Exec(ctx, `INSERT INTO events (site, received_at, event_id, type, name, source, occurred_at)
			VALUES ('shop', $1, 'stray', 'pageview', '', 'browser', $1)`, day); err != nil {
			t.Fatal(err)
		}
		if got := partitionOf("stray"); got != "events_default" {
			t.Fatalf("stray row is in %s, want events_default", got)
		}
		if _, err := s.Insert(ctx, []event.Event{storetest.Full("shop", "same-day", day.Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"stray", "same-day"} {
			if got := partitionOf(id); got != name(day) {
				t.Errorf("%s is in %s, want %s", id, got, name(day))
			}
		}
	})

	t.Run("concurrent creators", func(t *testing.T) {
		day := time.Date(2002, 3, 4, 12, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Separate stores: each has its own cache of known days.
				s2, err := postgres.Open(ctx, dsn)
				if err != nil {
					errs[i] = err
					return
				}
				defer s2.Close()
				_, errs[i] = s2.Insert(ctx, []event.Event{storetest.Full("shop", fmt.Sprint("c", i), day)})
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if got := partitionOf("c0"); got != name(day) {
			t.Errorf("c0 is in %s, want %s", got, name(day))
		}
	})
}

// TestDistributable checks what Citus needs to distribute every table by
// site: each table of ours has a site column and each primary key or unique
// constraint includes it.
func TestDistributable(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	rows, err := conn.Query(ctx, `
		SELECT c.relname,
		       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'site' AND NOT a.attisdropped),
		       coalesce((SELECT bool_and(EXISTS (SELECT 1 FROM unnest(k.conkey) n JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = n WHERE a.attname = 'site'))
		                 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u')), true)
		FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND c.relname <> 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		var hasSite, keysHaveSite bool
		if err := rows.Scan(&name, &hasSite, &keysHaveSite); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
		if !hasSite {
			t.Errorf("table %s has no site column", name)
		}
		if !keysHaveSite {
			t.Errorf("table %s has a primary key or unique constraint without site", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(tables)
	if len(tables) < 2 {
		t.Errorf("checked tables %v, expected at least events and event_ids", tables)
	}
}

func TestUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Nothing listens on port 1.
	s, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checks := map[string]func() error{
		"Ping":    func() error { return s.Ping(ctx) },
		"Migrate": func() error { return s.Migrate(ctx) },
		"Insert": func() error {
			_, err := s.Insert(ctx, []event.Event{storetest.Full("shop", "x", time.Now())})
			return err
		},
		"Recent": func() error { _, err := s.Recent(ctx, "shop", 1); return err },
		"OpenCursor": func() error {
			_, err := s.OpenCursor(ctx, "shop", "meta", time.Now(), false)
			return err
		},
		"Feed":    func() error { _, _, err := s.Feed(ctx, "shop", "meta", 10); return err },
		"Track":   func() error { _, err := s.Track(ctx, "shop", "meta", nil, store.FeedPosition{}); return err },
		"Reclaim": func() error { _, err := s.Reclaim(ctx, "shop", "meta", time.Now()); return err },
		"Due":     func() error { _, err := s.Due(ctx, "shop", "meta", time.Now(), 10); return err },
		"Record": func() error {
			return s.Record(ctx, "shop", "meta", []store.Delivery{{EventID: "x", Status: store.DeliverySent}})
		},
		"RecordAudit": func() error {
			return s.RecordAudit(ctx, store.AuditEntry{Site: "shop", At: time.Now(), Actor: "admin", Action: "sign_in"})
		},
		"ListAudit": func() error { _, err := s.ListAudit(ctx, "shop", 10); return err },
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			if err := check(); !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("%s with the database down = %v, want ErrUnavailable", name, err)
			}
		})
	}
}
