package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// BenchmarkInsert is the raw insert ceiling: one goroutine inserting
// batches of 500 ~850-byte events, each batch one transaction. One op is
// one event.
func BenchmarkInsert(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "events.db"))
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
	meter := storetest.StartMeter(b, nil)
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

// BenchmarkTotals measures Totals and Series by day over 30 days of 1M
// events, from raw events and with rollups (storetest.BenchEventsVar sets
// another count).
func BenchmarkTotals(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "events.db"))
	defer s.Close()
	storetest.BenchAnalytics(b, s, storetest.BenchEvents(b, 1_000_000), nil)
}

// BenchmarkRetention deletes 1M expired events (storetest.BenchEventsVar
// sets another count) in batches with a writer inserting beside it. Run
// it once: -benchtime=1x.
func BenchmarkRetention(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "events.db"))
	defer s.Close()
	storetest.BenchRetention(b, s, storetest.BenchEvents(b, 1_000_000))
}
