package batch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/internal/pgtest"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/batch"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

var pg = pgtest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Close(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// realStore is a store under test, with the server CPU clock when the
// database runs in another process.
type realStore struct {
	name      string
	open      func(tb testing.TB) store.Store
	serverCPU func() (time.Duration, error)
}

func realStores() []realStore {
	return []realStore{
		{"postgres", func(tb testing.TB) store.Store {
			s, err := postgres.Open(context.Background(), pg.NewDatabase(tb))
			if err != nil {
				tb.Fatal(err)
			}
			migrate(tb, s)
			return s
		}, pg.CPUTime},
		{"sqlite", func(tb testing.TB) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "events.db"))
			if err != nil {
				tb.Fatal(err)
			}
			migrate(tb, s)
			return s
		}, nil},
	}
}

func migrate(tb testing.TB, s store.Store) {
	tb.Helper()
	if err := s.Migrate(context.Background()); err != nil {
		s.Close()
		tb.Fatalf("Migrate: %v", err)
	}
}

func TestRealStores(t *testing.T) {
	for _, rs := range realStores() {
		t.Run(rs.name, func(t *testing.T) {
			s := rs.open(t)
			defer s.Close()
			w := batch.New(s.(batch.Inserter), batch.Options{})
			// 20 writers; every id is sent by two of them.
			const writers, perWriter = 20, 60
			now := time.Now()
			var total atomic.Int64
			var wg sync.WaitGroup
			for g := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perWriter; i += 3 {
						var req []event.Event
						for j := i; j < i+3; j++ {
							req = append(req, storetest.Realistic("shop", (g/2)*perWriter+j, now))
						}
						n, err := w.Write(context.Background(), req)
						if err != nil {
							t.Error(err)
							return
						}
						total.Add(int64(n))
					}
				}()
			}
			wg.Wait()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			want := writers / 2 * perWriter
			got, err := s.Recent(context.Background(), "shop", 2*want)
			if err != nil {
				t.Fatal(err)
			}
			if int(total.Load()) != want || len(got) != want {
				t.Errorf("callers counted %d new, store holds %d; want %d", total.Load(), len(got), want)
			}
		})
	}
}

// BenchmarkWriter measures ingest through the batch writer into a real
// store with concurrent writers (collector requests) of 1 and of 20
// ~850-byte events, each waiting for its commit. One op is one event;
// p99-ms is the 99th percentile of a Write's wait for its commit.
func BenchmarkWriter(b *testing.B) {
	for _, rs := range realStores() {
		for _, c := range []struct{ writers, size int }{{50, 1}, {200, 1}, {50, 20}} {
			b.Run(fmt.Sprintf("%s/writers=%d/events=%d", rs.name, c.writers, c.size), func(b *testing.B) {
				benchWriter(b, rs, c.writers, c.size, batch.Options{})
			})
		}
	}
}

func benchWriter(b *testing.B, rs realStore, writers, size int, opts batch.Options) {
	s := rs.open(b)
	defer s.Close()
	w := batch.New(s.(batch.Inserter), opts)
	now := time.Now()
	// Requests are made before the clock starts.
	reqs := make([][]event.Event, (b.N+size-1)/size)
	for i := range reqs {
		reqs[i] = make([]event.Event, 0, size)
		for j := i * size; j < min(b.N, (i+1)*size); j++ {
			reqs[i] = append(reqs[i], storetest.Realistic("shop", j, now))
		}
	}
	var next atomic.Int64
	var stored atomic.Int64
	latencies := make([]time.Duration, len(reqs)) // per request, by index
	b.ReportAllocs()
	b.ResetTimer()
	meter := storetest.StartMeter(b, rs.serverCPU)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(reqs)) {
					return
				}
				start := time.Now()
				n, err := w.Write(context.Background(), reqs[i])
				latencies[i] = time.Since(start)
				if err != nil {
					b.Error(err)
					return
				}
				stored.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	meter.Report(b, b.N)
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if stored.Load() != int64(b.N) {
		b.Fatalf("stored %d of %d events", stored.Load(), b.N)
	}
}
