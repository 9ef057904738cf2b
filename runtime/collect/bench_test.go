package collect

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/internal/pgtest"
	"github.com/trackstack/trackstack/runtime/service"
	"github.com/trackstack/trackstack/runtime/store"
)

// pg is started by the first benchmark that asks for a database.
var pg = pgtest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

const benchUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// BenchmarkCollect measures the whole collector as `trackstack collect`
// runs it: HTTP on loopback, decoding, enrichment, the batch writer and a
// durable commit in the store, with 50 concurrent keep-alive clients
// (200 for single events too) posting browser batches of 1 or 20 events (~450 bytes each, every event
// new). Clients share the 2 cores with the server, so this understates a
// collector alone. It reports events/s and the p99 request latency.
//
// The collector pods the operator runs set GOGC=400 (and GOMEMLIMIT); run
// with GOGC=400 to measure that, without it for Go's default.
func BenchmarkCollect(b *testing.B) {
	for _, driver := range []string{config.DriverSQLite, config.DriverPostgres} {
		for _, c := range []struct{ events, clients int }{{1, 50}, {1, 200}, {20, 50}} {
			b.Run(fmt.Sprintf("store=%s/events=%d/clients=%d", driver, c.events, c.clients), func(b *testing.B) {
				st := benchStore(b, driver)
				benchCollect(b, st, c.events, c.clients)
			})
		}
	}
}

func benchStore(b *testing.B, driver string) store.Store {
	b.Helper()
	s := config.Storage{Driver: driver, SQLitePath: filepath.Join(b.TempDir(), "bench.db")}
	if driver == config.DriverPostgres {
		s.DSNFile = filepath.Join(b.TempDir(), "uri")
		if err := os.WriteFile(s.DSNFile, []byte(pg.NewDatabase(b)), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	st, err := service.OpenStore(context.Background(), s)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := service.Migrate(context.Background(), st, nil); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkCollectDestinations measures what forwarding costs the
// collector: the same PostgreSQL load (20 events × 50 clients) for a site
// without destinations and for one with three (Meta, Google Ads, a
// webhook). Forwarders follow the events on their own, so the collector
// only seals the raw IP for the destination that matches on it.
func BenchmarkCollectDestinations(b *testing.B) {
	for _, dests := range []int{0, 3} {
		b.Run(fmt.Sprintf("destinations=%d", dests), func(b *testing.B) {
			st := benchStore(b, config.DriverPostgres)
			s := site("shop", "/_ts")
			if dests > 0 {
				s.Config.Destinations = []config.Destination{
					{Name: "meta", Type: v1alpha1.DestinationMeta},
					{Name: "gads", Type: v1alpha1.DestinationGoogleAds},
					{Name: "hook", Type: v1alpha1.DestinationWebhook},
				}
				s.IPSealingKey = []byte(strings.Repeat("ab", 32))
			}
			benchCollectSite(b, st, s, 20, 50)
		})
	}
}

func benchCollect(b *testing.B, st store.Store, n, clients int) {
	benchCollectSite(b, st, site("shop", "/_ts"), n, clients)
}

func benchCollectSite(b *testing.B, st store.Store, s ingest.Site, n, clients int) {
	c, err := New(Options{Store: st, Sites: []ingest.Site{s}, Limits: &ingest.Limits{}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	defer c.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var seq atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration

	b.SetParallelism((clients + 1) / 2) // GOMAXPROCS is 2 on the reference machine
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		var body strings.Builder
		for pb.Next() {
			body.Reset()
			browserBatch(&body, n, seq.Add(int64(n)))
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/_ts/e", strings.NewReader(body.String()))
			req.Header.Set("Origin", "https://shop.example.com")
			req.Header.Set("User-Agent", benchUA)
			req.Header.Set("Content-Type", "text/plain")
			start := time.Now()
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			mine = append(mine, time.Since(start))
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	perReq := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/perReq*float64(n), "events/s")
	if len(latencies) > 0 {
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// browserBatch writes a batch of n events as the tracker sends them, with
// event ids from first on.
func browserBatch(w *strings.Builder, n int, first int64) {
	ts := time.Now().UnixMilli()
	w.WriteString(`{"site":"shop","events":[`)
	for i := range n {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, `{"event_id":"4f0c1a3e-58b1-4c2a-9d6e-%012d","type":"pageview","name":"pageview","ts":%d,`+
			`"url":"https://shop.example.com/p/winter-boots?utm_source=google&utm_medium=cpc&utm_campaign=winter&gclid=abc",`+
			`"referrer":"https://www.google.com/","title":"Winter boots – Shop","screen":"1920x1080","lang":"en-US",`+
			`"utm":{"source":"google","medium":"cpc","campaign":"winter"},"click_ids":{"gclid":"abc"},`+
			`"cookies":{"fbp":"fb.1.1700000000000.1234567890","ga":"GA1.1.123456789.1700000000"},`+
			`"consent":{"ad_storage":"granted","analytics_storage":"granted"},"scripted":true}`, first+int64(i), ts)
	}
	w.WriteString(`]}`)
}
