package forwarder

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/googleads/googleadsfake"
	"github.com/trackstack/trackstack/runtime/forward/meta/metafake"
	"github.com/trackstack/trackstack/runtime/internal/pgtest"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
)

// pg is started by the first test or benchmark that asks for a database.
var pg = pgtest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// benchPlatform is a platform's adapter configuration against its local fake.
type benchPlatform struct {
	name  string
	setup func(tb testing.TB) (config.Destination, forward.Credentials, http.Handler)
}

var benchPlatforms = []benchPlatform{
	{"meta", func(testing.TB) (config.Destination, forward.Credentials, http.Handler) {
		d := config.Destination{Name: "meta", Type: v1alpha1.DestinationMeta, Meta: &v1alpha1.MetaDestination{PixelID: "1234567890"}}
		return d, forward.Credentials{"accessToken": "bench-token"}, metafake.New("1234567890", "bench-token")
	}},
	{"googleAds", func(testing.TB) (config.Destination, forward.Credentials, http.Handler) {
		d := config.Destination{Name: "gads", Type: v1alpha1.DestinationGoogleAds,
			GoogleAds: &v1alpha1.GoogleAdsDestination{CustomerID: "1234567890", ConversionActionID: "987654"}}
		creds := forward.Credentials{"clientID": "bench-client", "clientSecret": "bench-secret", "refreshToken": "bench-refresh"}
		return d, creds, googleadsfake.New("bench-client", "bench-secret", "bench-refresh")
	}},
}

// BenchmarkForward measures a forwarder from the store to a platform: b.N
// purchases stored in PostgreSQL (fsync on) before the timer starts, then
// the engine feeds, records, batches, sends them to the platform's strict
// local fake over loopback HTTP and records every outcome. It reports
// events/s; allocations per event include the fake's and the database
// driver's, since all run in this process.
func BenchmarkForward(b *testing.B) {
	for _, p := range benchPlatforms {
		b.Run(p.name, func(b *testing.B) { benchForward(b, p) })
	}
}

func benchForward(b *testing.B, p benchPlatform) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, pg.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	d, creds, fake := p.setup(b)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	setEndpoint(&d, srv.URL)
	plat, err := NewPlatform(d, creds, NewHTTPClient())
	if err != nil {
		b.Fatal(err)
	}
	defaults := plat.(forward.Defaulter).DefaultEvents()
	m, err := forward.NewMapping(nil, defaults, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Minute)
	if _, err := st.OpenCursor(ctx, "shop", d.Name, start.Add(-time.Hour), false); err != nil {
		b.Fatal(err)
	}
	insertPurchases(b, st, b.N, start)
	counted := &countingPlatform{Platform: plat}
	eng, err := forward.New(forward.Options{
		Site: "shop", Destination: d.Name, Platform: counted, Mapping: m, Store: st,
		PollInterval: 10 * time.Millisecond, MaxWait: 50 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	go func() {
		eng.Run(runCtx) //nolint:errcheck // nil when cancelled
		close(done)
	}()
	counted.waitConfirmed(b.N)
	waitSent(b, st, d.Name, b.N)
	elapsed := time.Since(t0)
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

// countingPlatform counts the events a platform confirmed and rejected,
// so that the benchmark waits for them without asking the database over
// and over: a count of the destination's records every few milliseconds
// took most of a core of the two the benchmark shares with the forwarder
// and PostgreSQL.
type countingPlatform struct {
	forward.Platform
	sent, failed atomic.Int64
}

func (p *countingPlatform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	out, err := p.Platform.Send(ctx, items)
	if err != nil {
		if forward.AsError(err).Kind == forward.Permanent {
			p.failed.Add(int64(len(items)))
		}
		return out, err
	}
	for _, o := range out {
		switch o.Status {
		case forward.Sent:
			p.sent.Add(1)
		case forward.Failed:
			p.failed.Add(1)
		}
	}
	return out, nil
}

// waitConfirmed waits until the platform confirmed n events, rejected
// one, or ten minutes passed; waitSent then tells which.
func (p *countingPlatform) waitConfirmed(n int) {
	deadline := time.Now().Add(10 * time.Minute)
	for p.sent.Load() < int64(n) && p.failed.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// setEndpoint points a destination's settings block at url.
func setEndpoint(d *config.Destination, url string) {
	switch {
	case d.Meta != nil:
		d.Meta.Endpoint.Endpoint = url
	case d.GoogleAds != nil:
		d.GoogleAds.Endpoint.Endpoint, d.GoogleAds.TokenURL = url, url+googleadsfake.TokenPath
	}
}

// insertPurchases stores n purchases a site's backend would send.
func insertPurchases(tb testing.TB, st store.Store, n int, at time.Time) {
	tb.Helper()
	const chunk = 2000
	for i := 0; i < n; i += chunk {
		evs := make([]event.Event, 0, chunk)
		for j := i; j < min(n, i+chunk); j++ {
			v := 49.9 + float64(j%100)
			evs = append(evs, event.Event{
				Site: "shop", EventID: fmt.Sprintf("order-%d", j), Type: event.TypeConversion, Name: "purchase",
				Source: event.SourceServer, Timestamp: at, ReceivedAt: at.Add(time.Duration(j) * time.Microsecond),
				VisitorID: fmt.Sprintf("v-%d", j%5000), SessionID: fmt.Sprintf("s-%d", j%1200),
				URL: "https://shop.example.com/checkout/done", Value: &v, Currency: "EUR", OrderID: fmt.Sprintf("%d", j),
				ClickIDs:  map[string]string{"gclid": fmt.Sprintf("Cj0KCQjw-%d", j), "fbclid": fmt.Sprintf("IwAR-%d", j)},
				Consent:   event.Consent{AdUserData: event.Granted, AdPersonalization: event.Granted},
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
				User: event.User{
					EmailSHA256:     "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
					PhoneSHA256:     "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
					PhoneE164SHA256: "a2f3a1b0ea7ed5fbe2ee4c0a8a82b9e44f4f0d0a3ba5dcbd2c0c6d4f1d3a0e11",
				},
			})
		}
		if _, err := st.Insert(context.Background(), evs); err != nil {
			tb.Fatal(err)
		}
	}
}

// waitSent polls until n deliveries of the destination are sent: the
// records, after the platform confirmed them.
func waitSent(tb testing.TB, st forward.Store, dest string, n int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		s, err := st.DeliveryStats(context.Background(), "shop", dest)
		if err != nil {
			tb.Fatal(err)
		}
		if s.Counts[store.DeliverySent] >= int64(n) {
			return
		}
		if f := s.Counts[store.DeliveryFailed]; f > 0 {
			tb.Fatalf("%d deliveries failed", f)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d sent", s.Counts[store.DeliverySent], n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
