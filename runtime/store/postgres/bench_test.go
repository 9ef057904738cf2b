package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// BenchmarkInsert is the raw insert ceiling: one goroutine inserting
// batches of 500 ~850-byte events, each batch one transaction with a
// durable commit (fsync on). One op is one event.
func BenchmarkInsert(b *testing.B) {
	s := open(b)
	defer s.Close()
	ctx := context.Background()
	const batchSize = 500
	now := time.Now()
	// Events are made before the clock starts: their ids are the only
	// difference between batches.
	batch := make([]event.Event, batchSize)
	for j := range batch {
		batch[j] = storetest.Realistic("shop", j, now)
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = storetest.Realistic("shop", i, now).EventID
	}
	b.ReportAllocs()
	b.ResetTimer()
	meter := storetest.StartMeter(b, pg.CPUTime)
	for i := 0; i < b.N; i += batchSize {
		n := min(batchSize, b.N-i)
		for j := range n {
			batch[j].EventID = ids[i+j]
		}
		got, err := s.Insert(ctx, batch[:n])
		if err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("inserted %d of %d", got, n)
		}
	}
	meter.Report(b, b.N)
}

// BenchmarkInsertParallel is the ceiling on this machine: one batched
// insert loop per core, as the batch writer runs when batches are full.
func BenchmarkInsertParallel(b *testing.B) {
	s := open(b)
	defer s.Close()
	ctx := context.Background()
	const batchSize, loops = 500, 2
	now := time.Now()
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = storetest.Realistic("shop", i, now).EventID
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	meter := storetest.StartMeter(b, pg.CPUTime)
	var wg sync.WaitGroup
	for range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]event.Event, batchSize)
			for j := range batch {
				batch[j] = storetest.Realistic("shop", j, now)
			}
			for {
				start := int(next.Add(batchSize)) - batchSize
				if start >= b.N {
					return
				}
				n := min(batchSize, b.N-start)
				for j := range n {
					batch[j].EventID = ids[start+j]
				}
				if got, err := s.Insert(ctx, batch[:n]); err != nil || got != n {
					b.Errorf("Insert = %d, %v; want %d", got, err, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	meter.Report(b, b.N)
}

// BenchmarkTotals measures Totals and Series by day over 30 days of 10M
// events, from raw events and with rollups (storetest.BenchEventsVar sets
// another count). The tables are analyzed after the fill and after the
// roll-up, as autovacuum would have by then.
func BenchmarkTotals(b *testing.B) {
	dsn := pg.NewDatabase(b)
	s := openDSN(b, dsn)
	defer s.Close()
	storetest.BenchAnalytics(b, s, storetest.BenchEvents(b, 10_000_000), func(b *testing.B) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "ANALYZE events, rollup_sessions"); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRetention deletes 10M expired events (storetest.BenchEventsVar
// sets another count) with a writer inserting beside it; the expired days
// hold only the site's events, so they go as whole partitions. Run it
// once: -benchtime=1x.
func BenchmarkRetention(b *testing.B) {
	s := openDSN(b, pg.NewDatabase(b))
	defer s.Close()
	storetest.BenchRetention(b, s, storetest.BenchEvents(b, 10_000_000))
}
