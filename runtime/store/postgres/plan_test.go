package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// TestRecentUsesIndex checks that listing the newest events reads them in
// index order rather than sorting a whole partition. It explains the
// statement Recent sends, with the arguments Recent binds.
func TestRecentUsesIndex(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn)
	defer s.Close()
	now := time.Now()
	batch := make([]event.Event, 500)
	for i := range batch {
		batch[i] = storetest.Realistic("shop", i, now.Add(time.Duration(i)*time.Millisecond))
	}
	if _, err := s.Insert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, "ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "EXPLAIN "+postgres.RecentEventsSQL, "shop", 50)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "Index Scan Backward") || strings.Contains(text, "Sort  (") {
		t.Errorf("Recent's plan does not read the index newest first:\n%s", text)
	}
}

// explain returns the plan of sql with args, as PostgreSQL prints it.
func explain(t *testing.T, conn *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	// Feed plans under the settings it sends first, in its transaction.
	if settings, stmt, ok := strings.Cut(sql, "; EXPLAIN "); ok {
		ctx := context.Background()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, settings); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(ctx, "EXPLAIN "+stmt, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	rows, err := conn.Query(context.Background(), "EXPLAIN "+sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestFeedAndDueUseIndexes checks that Feed reads the (site, txid, seq)
// index in order, stopping at the snapshot's xmin; that Recorded looks
// records up by primary key; that Due reads the
// partial index of pending records and finds each event through
// (site, received_at, seq) in its day's partition, as ForgetRawIPs does;
// and that OrderConversion reads the partial (site, order_id) index. It explains the
// statements the store sends, with the arguments it binds, on a table
// where most records are delivered.
func TestFeedAndDueUseIndexes(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn)
	defer s.Close()
	now := time.Now().UTC()
	if _, err := s.OpenCursor(ctx, "shop", "meta", now.Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	for b := range 4 {
		batch := make([]event.Event, 500)
		for i := range batch {
			batch[i] = storetest.Realistic("shop", b*1000+i, now.Add(time.Duration(b*1000+i)*time.Millisecond))
			if i%5 == 0 {
				batch[i].Site = "other"
			}
		}
		if _, err := s.Insert(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	var sent []store.Delivery
	for {
		events, pos, err := s.Feed(ctx, "shop", "meta", 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			break
		}
		recs := make([]store.Delivery, len(events))
		for i, e := range events {
			recs[i] = store.Delivery{EventID: e.EventID, Status: store.DeliveryPending, SendAs: "PageView", ReceivedAt: e.ReceivedAt, Source: e.Source}
			if i%20 != 0 {
				sent = append(sent, store.Delivery{EventID: e.EventID, Status: store.DeliverySent, Attempts: 1})
			}
		}
		if _, err := s.Track(ctx, "shop", "meta", recs, pos); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Record(ctx, "shop", "meta", sent); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	// Months of delivered events: most records are final, and the plan
	// must not read them to find the few pending ones.
	if _, err := conn.Exec(ctx, `INSERT INTO deliveries
		SELECT 'shop', 'meta', 'old-' || n, 'sent', 'PageView', '', 1, '', t, t, t, 'browser'
		FROM generate_series(1, 50000) n, LATERAL (SELECT now() - n * interval '1 minute' AS t) x`); err != nil {
		t.Fatal(err)
	}
	// Autovacuum's steady state: the records updated to sent leave dead
	// entries in the partial index until a vacuum.
	for _, q := range []string{"ANALYZE events", "VACUUM ANALYZE deliveries"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	// The partition of today holds the events; the others are empty, and
	// a sequential scan of an empty table is what the planner rightly
	// picks for it.
	today := "events_p" + now.Format("20060102")
	newIDs := make([]string, 2000)
	for i := range newIDs {
		newIDs[i] = fmt.Sprint("new-", i)
	}
	tests := []struct {
		name, sql string
		args      []any
		want, not []string // substrings the plan must have, and must not
	}{
		{"Feed", postgres.FeedPlanSQL + "; EXPLAIN " + postgres.FeedSQL, []any{"shop", int64(1), int64(0), now.Add(-time.Hour), 100},
			[]string{"Index Scan using " + today + "_site_txid_seq_idx", "pg_snapshot_xmin"},
			[]string{"Seq Scan on " + today, "Sort  ("}},
		// A page's worth of ids, most of them without a record.
		{"Recorded", postgres.RecordedSQL, []any{"shop", "meta", newIDs},
			[]string{"Nested Loop", "Index Scan using deliveries_"},
			[]string{"Seq Scan on deliveries"}},
		// The outer sort orders at most limit rows.
		{"Due", postgres.DueSQL, []any{"shop", "meta", now.Add(time.Hour), 100},
			[]string{"deliveries_due_idx", "Index Scan using " + today + "_site_received_at_seq_idx"},
			[]string{"Seq Scan on deliveries", "Seq Scan on " + today, "Hash"}},
		{"ForgetRawIPs", postgres.ForgetRawIPsSQL, []any{"shop", []string{"a", "b"}, []string{"meta"}, 1},
			[]string{"event_ids_pkey", "Index Scan using " + today + "_site_received_at_seq_idx"},
			[]string{"Seq Scan on deliveries", "Seq Scan on " + today, "Hash"}},
		{"OrderConversion", postgres.OrderConversionSQL, []any{"shop", "order-1"},
			[]string{today + "_site_order_id_idx"},
			[]string{"Seq Scan on " + today}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := explain(t, conn, tt.sql, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan does not contain %q:\n%s", w, plan)
				}
			}
			for _, bad := range tt.not {
				if strings.Contains(plan, bad) {
					t.Errorf("plan contains %q:\n%s", bad, plan)
				}
			}
		})
	}
}

// TestFeedPlanWithoutStatistics: on a day partition never analyzed (a new
// day, a burst of inserts), the planner expects a handful of rows; Feed
// must still read the index in order, not scan everything after the
// cursor and sort it.
func TestFeedPlanWithoutStatistics(t *testing.T) {
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
	now := time.Now().UTC()
	for b := range 10 {
		batch := make([]event.Event, 2000)
		for i := range batch {
			n := b*len(batch) + i
			batch[i] = storetest.Realistic("shop", n, now.Add(time.Duration(n)*time.Microsecond))
		}
		if _, err := s.Insert(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	conn := connect(t, dsn)
	plan := explain(t, conn, postgres.FeedPlanSQL+"; EXPLAIN "+postgres.FeedSQL, "shop", int64(1), int64(0), now.Add(-time.Hour), 2000)
	if !strings.Contains(plan, "_site_txid_seq_idx") || strings.Contains(plan, "Sort  (") || strings.Contains(plan, "Bitmap") {
		t.Errorf("Feed's plan without statistics does not read the index in order:\n%s", plan)
	}
}
