package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/migration"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

func feedIDs(t *testing.T, s *Store, site, dest string) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for {
		events, pos, err := s.Feed(ctx, site, dest, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			return ids
		}
		recs := make([]store.Delivery, len(events))
		for i, e := range events {
			ids = append(ids, e.EventID)
			recs[i] = store.Delivery{EventID: e.EventID, Status: store.DeliveryPending, SendAs: "Purchase", ReceivedAt: e.ReceivedAt, Source: e.Source}
		}
		if _, err := s.Track(ctx, site, dest, recs, pos); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFeedAfterDeletingTheLastEvent checks that an event stored after the
// newest one was deleted (retention, an erasure) is still fed: a plain
// rowid would hand the deleted row's seq out again, behind the cursor.
func TestFeedAfterDeletingTheLastEvent(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := s.OpenCursor(ctx, "shop", "meta", now.Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert(ctx, []event.Event{storetest.Full("shop", "a", now), storetest.Full("shop", "b", now)}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(feedIDs(t, s, "shop", "meta")); got != "[a b]" {
		t.Fatalf("feed = %s, want [a b]", got)
	}
	if _, err := s.writer.ExecContext(ctx, "DELETE FROM events WHERE event_id = 'b'"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert(ctx, []event.Event{storetest.Full("shop", "c", now)}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(feedIDs(t, s, "shop", "meta")); got != "[c]" {
		t.Errorf("after deleting the last event, the feed = %s, want [c]", got)
	}
}

// TestMigrateKeepsRowids checks migration 0002 on a database with events:
// each row keeps its rowid as seq, so the newest-first order and the feed
// order are the insertion order of before.
func TestMigrateKeepsRowids(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	// The schema as the first release left it, with events in it.
	now := time.Now()
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT '')`,
		ms[0].SQL,
		fmt.Sprintf(`INSERT INTO schema_migrations (version, name) VALUES (%d, '%s')`, ms[0].Version, ms[0].Name),
	} {
		if _, err := s.writer.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"x", "y", "gone", "z"} {
		if _, err := s.writer.ExecContext(ctx, `INSERT INTO events (site, received_at, event_id, type, name, source, occurred_at)
			VALUES ('shop', ?, ?, 'pageview', 'pageview', 'browser', ?)`, micros(now.Add(time.Duration(-i)*time.Second)), id, micros(now)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM events WHERE event_id = 'gone'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT event_id, seq FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(id, seq))
	}
	rows.Close()
	if fmt.Sprint(got) != "[x1 y2 z4]" {
		t.Errorf("after the migration (event_id, seq) = %v, want the old rowids [x1 y2 z4]", got)
	}
	if _, err := s.OpenCursor(ctx, "shop", "meta", now.Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert(ctx, []event.Event{storetest.Full("shop", "new", now.Add(-time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(feedIDs(t, s, "shop", "meta")); got != "[x y z new]" {
		t.Errorf("feed after the migration = %s, want [x y z new]", got)
	}
}
