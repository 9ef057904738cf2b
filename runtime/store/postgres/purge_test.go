package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// TestPurgeFindsTablesAddedLater: a table no migration of this version has
// is purged because it has a site column; a day partition holding only the
// purged site's rows is emptied and kept (later inserts of that day still
// land in it); a day shared with another site is deleted from in batches,
// several when the site has more rows than one batch.
func TestPurgeFindsTablesAddedLater(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn)
	defer s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pgExec(t, conn, `CREATE TABLE later_rollups (site text NOT NULL, day date NOT NULL, n bigint NOT NULL, PRIMARY KEY (site, day))`)
	pgExec(t, conn, `CREATE TABLE unrelated (name text)`)
	for _, site := range []string{"closing", "staying"} {
		for i := 1; i <= 3; i++ {
			pgExec(t, conn, `INSERT INTO later_rollups VALUES ($1, $2, 1)`, site, fmt.Sprintf("2026-11-0%d", i))
		}
	}
	pgExec(t, conn, `INSERT INTO unrelated VALUES ('closing')`)

	now := time.Now().UTC()
	own := now.Add(-50 * time.Hour) // a day only the purged site has
	many := store.PurgeBatchSize*2 + 7
	evs := make([]event.Event, 0, 2*many)
	for i := range many {
		evs = append(evs, storetest.Full("closing", fmt.Sprint("e", i), now))
	}
	// More than a batch on the own day: a TRUNCATE takes one step where
	// deleting would take two.
	ownRows := store.PurgeBatchSize + 1
	for i := range ownRows {
		evs = append(evs, storetest.Full("closing", fmt.Sprint("own", i), own))
	}
	evs = append(evs, storetest.Full("staying", "kept", now))
	if _, err := s.Insert(ctx, evs); err != nil {
		t.Fatal(err)
	}
	ownPartition := "events_p" + own.Format("20060102")

	batches := 0
	got, err := s.PurgeSite(ctx, "closing", func(table string, _ int64) {
		if table == "events" {
			batches++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"events": int64(many + ownRows), "event_ids": int64(many + ownRows), "later_rollups": 3}
	for table, n := range want {
		if got[table] != n {
			t.Errorf("removed from %s: %d, want %d (all: %v)", table, got[table], n, got)
		}
	}
	for _, table := range []string{"unrelated", ownPartition, "events_default"} {
		if _, ok := got[table]; ok {
			t.Errorf("%s is reported on its own: %v", table, got)
		}
	}
	// One TRUNCATE for the own day, three batches for the shared one.
	if batches != 4 {
		t.Errorf("events were removed in %d steps, want 4", batches)
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, ownPartition).Scan(&exists); err != nil || !exists {
		t.Errorf("partition %s is gone (%v): later events of that day would land in the default partition", ownPartition, err)
	}
	left, err := s.SiteRows(ctx, "staying")
	if err != nil {
		t.Fatal(err)
	}
	if left["events"] != 1 || left["event_ids"] != 1 || left["later_rollups"] != 3 {
		t.Errorf("the other site's rows: %v", left)
	}
}

func pgExec(t *testing.T, conn *pgx.Conn, q string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
