package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// TestPurgeFindsTablesAddedLater: tables no migration of this version has
// (one with a rowid, one WITHOUT ROWID) are purged because they have a site
// column, and a site with more events than one batch is purged in several.
func TestPurgeFindsTablesAddedLater(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path)
	defer s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE later_rollups (site TEXT NOT NULL, day TEXT NOT NULL, n INTEGER NOT NULL)`,
		`CREATE TABLE later_keyed (site TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (site, digest)) WITHOUT ROWID`,
		`CREATE TABLE unrelated (name TEXT)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, site := range []string{"closing", "staying"} {
		for i := range 3 {
			mustExec(t, db, `INSERT INTO later_rollups VALUES (?, ?, 1)`, site, fmt.Sprint("2026-11-0", i))
			mustExec(t, db, `INSERT INTO later_keyed VALUES (?, ?)`, site, fmt.Sprint("d", i))
		}
	}
	mustExec(t, db, `INSERT INTO unrelated VALUES ('closing')`)
	now := time.Now().UTC()
	many := store.PurgeBatchSize*2 + 7
	evs := make([]event.Event, many)
	for i := range evs {
		evs[i] = storetest.Full("closing", fmt.Sprint("e", i), now)
	}
	if _, err := s.Insert(ctx, append(evs, storetest.Full("staying", "kept", now))); err != nil {
		t.Fatal(err)
	}

	batches := 0
	got, err := s.PurgeSite(ctx, "closing", func(table string, _ int64) {
		if table == "events" {
			batches++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"events": int64(many), "later_rollups": 3, "later_keyed": 3, "deliveries": 0, "forward_cursors": 0, "audit_log": 0}
	for table, n := range want {
		if got[table] != n {
			t.Errorf("removed from %s: %d, want %d (all: %v)", table, got[table], n, got)
		}
	}
	if _, ok := got["unrelated"]; ok {
		t.Errorf("a table without a site column was purged: %v", got)
	}
	if batches != 3 {
		t.Errorf("events were deleted in %d batches, want 3 of at most %d", batches, store.PurgeBatchSize)
	}
	left, err := s.SiteRows(ctx, "staying")
	if err != nil {
		t.Fatal(err)
	}
	if left["events"] != 1 || left["later_rollups"] != 3 || left["later_keyed"] != 3 {
		t.Errorf("the other site's rows: %v", left)
	}
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
