package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/migration"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// feeder feeds one destination and counts how often each event came.
type feeder struct {
	t    *testing.T
	s    *postgres.Store
	seen map[string]int
}

// step feeds one page, tracks it, and returns its event ids.
func (f *feeder) step(limit int) []string {
	f.t.Helper()
	ctx := context.Background()
	events, pos, err := f.s.Feed(ctx, "shop", "meta", limit)
	if err != nil {
		f.t.Fatalf("Feed: %v", err)
	}
	var ids []string
	recs := make([]store.Delivery, len(events))
	for i, e := range events {
		ids = append(ids, e.EventID)
		f.seen[e.EventID]++
		recs[i] = store.Delivery{EventID: e.EventID, Status: store.DeliveryPending, SendAs: "Purchase", ReceivedAt: e.ReceivedAt, Source: e.Source}
	}
	if _, err := f.s.Track(ctx, "shop", "meta", recs, pos); err != nil {
		f.t.Fatalf("Track: %v", err)
	}
	return ids
}

func (f *feeder) drain() []string {
	f.t.Helper()
	var all []string
	for {
		ids := f.step(100)
		if len(ids) == 0 {
			return all
		}
		all = append(all, ids...)
	}
}

// assertOnce checks that each of want was fed exactly once, and nothing else.
func (f *feeder) assertOnce(want []string) {
	f.t.Helper()
	for _, id := range want {
		if n := f.seen[id]; n != 1 {
			f.t.Errorf("event %s was fed %d times, want once", id, n)
		}
	}
	if len(f.seen) != len(want) {
		f.t.Errorf("fed %d distinct events, want %d", len(f.seen), len(want))
	}
}

// TestFeedHoldsBackOpenTransactions checks the exact feed against a
// collector whose transaction stays open while another commits events
// after it: the feed must stop before the open one, and deliver every event
// exactly once after it commits.
func TestFeedHoldsBackOpenTransactions(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn)
	defer s.Close()
	now := time.Now().UTC()
	if _, err := s.OpenCursor(ctx, "shop", "meta", now.Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	f := &feeder{t: t, s: s, seen: map[string]int{}}
	mustInsert(t, s, storetest.Full("shop", "before", now))

	held := connect(t, dsn)
	if _, err := held.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	// The store's own rows: the key, then the event, with the columns'
	// defaults (seq, txid) as COPY leaves them.
	if _, err := held.Exec(ctx, `INSERT INTO event_ids (site, event_id, received_at, source) VALUES ('shop', 'held', $1, 'browser')`, now); err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec(ctx, `INSERT INTO events (site, received_at, event_id, type, name, source, occurred_at)
		VALUES ('shop', $1, 'held', 'pageview', 'pageview', 'browser', $1)`, now); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, storetest.Full("shop", "after-1", now))
	mustInsert(t, s, storetest.Full("shop", "after-2", now.Add(-time.Second)))

	if got := f.drain(); fmt.Sprint(got) != "[before]" {
		t.Errorf("with a transaction open the feed returned %v, want only [before]", got)
	}
	if _, err := held.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if got := f.drain(); fmt.Sprint(got) != "[held after-1 after-2]" {
		t.Errorf("after the commit the feed returned %v, want [held after-1 after-2]", got)
	}
	f.assertOnce([]string{"before", "held", "after-1", "after-2"})
}

// TestFeedUnderConcurrentWriters feeds while several writers commit
// batches, and checks that every event comes exactly once.
func TestFeedUnderConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	defer s.Close()
	now := time.Now().UTC()
	if _, err := s.OpenCursor(ctx, "shop", "meta", now.Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	const writers, batches, perBatch = 4, 30, 5
	var (
		wg   sync.WaitGroup
		want []string
	)
	errs := make(chan error, writers)
	for w := range writers {
		var batch [batches][]event.Event
		for b := range batches {
			for i := range perBatch {
				id := fmt.Sprintf("w%d-b%d-%d", w, b, i)
				batch[b] = append(batch[b], storetest.Full("shop", id, now))
				want = append(want, id)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, events := range batch {
				if _, err := s.Insert(ctx, events); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	f := &feeder{t: t, s: s, seen: map[string]int{}}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			f.step(7)
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	f.drain()
	f.assertOnce(want)
}

func mustInsert(t *testing.T, s *postgres.Store, events ...event.Event) {
	t.Helper()
	if n, err := s.Insert(context.Background(), events); err != nil || n != len(events) {
		t.Fatalf("Insert = %d, %v; want %d", n, err, len(events))
	}
}

// TestMigrateDeliveriesKeepsEvents applies migration 0003 to a database
// that already holds events, in partitions and in the default one, and
// checks that they are fed in their insertion order.
func TestMigrateDeliveriesKeepsEvents(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	conn := connect(t, dsn)
	ms, err := migration.Load(os.DirFS("."), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:2] {
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	if _, err := conn.Exec(ctx, `SELECT ensure_event_partition($1::date)`, now); err != nil {
		t.Fatal(err)
	}
	// In today's partition, and one in the default partition (a day
	// without a partition).
	for i, at := range []time.Time{now, now.Add(-time.Second), now.Add(-30 * time.Minute), now.Add(-50 * time.Hour)} {
		id := fmt.Sprint("pre-", i)
		if _, err := conn.Exec(ctx, `INSERT INTO event_ids (site, event_id, received_at, source) VALUES ('shop', $1, $2, 'browser')`, id, at); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO events (site, received_at, event_id, type, name, source, occurred_at)
			VALUES ('shop', $2, $1, 'pageview', 'pageview', 'browser', $2)`, id, at); err != nil {
			t.Fatal(err)
		}
	}
	s := openDSN(t, dsn) // applies 0003 and later
	defer s.Close()
	if _, err := s.OpenCursor(ctx, "shop", "meta", now.Add(-72*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, storetest.Full("shop", "post", now.Add(-time.Hour)))
	f := &feeder{t: t, s: s, seen: map[string]int{}}
	if got := fmt.Sprint(f.drain()); got != "[pre-0 pre-1 pre-2 pre-3 post]" {
		t.Errorf("feed after the migration = %s, want [pre-0 pre-1 pre-2 pre-3 post]", got)
	}
}
