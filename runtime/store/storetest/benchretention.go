package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// BenchRetention stores n events of site shop over 30 days long past,
// then deletes them all with one retention run while a writer keeps
// inserting today's events in batches of 100, as a collector would. It
// reports how long the deletion took, its rate, and the writer's events/s
// and worst insert before and during the run: ingest must keep going.
func BenchRetention(b *testing.B, s store.Store, n int) {
	r, ok := s.(store.Retention)
	if !ok {
		b.Fatalf("%T does not implement store.Retention", s)
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, benchDays)
	fillSite(b, s, "shop", n, from, to)
	b.Logf("stored %d events", n)

	w := startIngest(b, s)
	time.Sleep(5 * time.Second)
	before := w.sample()
	b.ResetTimer()
	start := time.Now()
	got, err := r.ApplyRetention(context.Background(), store.RetentionPlan{Site: "shop", DeleteBefore: to.AddDate(0, 0, 1)})
	took := time.Since(start)
	b.StopTimer()
	during := w.sample()
	w.stop()
	if err != nil {
		b.Fatal(err)
	}
	if got.EventsDeleted != int64(n) {
		b.Fatalf("deleted %d events, want %d (%+v)", got.EventsDeleted, n, got)
	}
	b.Logf("retention: %+v in %v", got, took)
	b.ReportMetric(took.Seconds(), "s/run")
	b.ReportMetric(float64(n)/took.Seconds(), "deleted/s")
	b.ReportMetric(float64(got.PartitionsDropped), "partitions")
	b.ReportMetric(before.rate, "ingest-before-ev/s")
	b.ReportMetric(during.rate, "ingest-during-ev/s")
	b.ReportMetric(float64(during.worst.Milliseconds()), "ingest-worst-ms")
	b.ReportMetric(float64(during.p99.Milliseconds()), "ingest-p99-ms")
}

// fillSite inserts n events of one site over [from, to) in batches.
func fillSite(b *testing.B, s store.Store, site string, n int, from, to time.Time) {
	b.Helper()
	const batchSize = 5000
	gap := to.Sub(from) / time.Duration(n)
	batch := make([]event.Event, 0, batchSize)
	for i := range n {
		batch = append(batch, Realistic(site, i, from.Add(time.Duration(i)*gap)))
		if len(batch) == batchSize || i == n-1 {
			if got, err := s.Insert(context.Background(), batch); err != nil || got != len(batch) {
				b.Fatalf("Insert = %d, %v; want %d", got, err, len(batch))
			}
			batch = batch[:0]
		}
	}
}

// ingestWriter inserts batches of today's events until stopped.
type ingestWriter struct {
	mu      sync.Mutex
	events  int
	took    []time.Duration
	since   time.Time
	failed  atomic.Value
	quit    chan struct{}
	stopped chan struct{}
}

// ingestSample is the writer's rate and latencies since the last sample.
type ingestSample struct {
	rate       float64
	p99, worst time.Duration
}

func startIngest(b *testing.B, s store.Store) *ingestWriter {
	w := &ingestWriter{since: time.Now(), quit: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(w.stopped)
		for i := 0; ; i++ {
			select {
			case <-w.quit:
				return
			default:
			}
			batch := make([]event.Event, 100)
			now := time.Now().UTC()
			for j := range batch {
				batch[j] = Realistic("live", i*100+j, now)
				batch[j].EventID = fmt.Sprintf("live-%d-%d", i, j)
			}
			start := time.Now()
			if _, err := s.Insert(context.Background(), batch); err != nil {
				w.failed.Store(err)
				return
			}
			w.mu.Lock()
			w.events += len(batch)
			w.took = append(w.took, time.Since(start))
			w.mu.Unlock()
		}
	}()
	b.Cleanup(w.stop)
	return w
}

func (w *ingestWriter) sample() ingestSample {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := ingestSample{rate: float64(w.events) / time.Since(w.since).Seconds()}
	if len(w.took) > 0 {
		slices.Sort(w.took)
		out.p99, out.worst = w.took[len(w.took)*99/100], w.took[len(w.took)-1]
	}
	w.events, w.took, w.since = 0, nil, time.Now()
	return out
}

func (w *ingestWriter) stop() {
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	<-w.stopped
	if err, _ := w.failed.Load().(error); err != nil {
		panic(fmt.Sprintf("the concurrent writer failed during the benchmark: %v", err))
	}
}
