package storetest

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// BenchEventsVar names the environment variable that sets how many events
// the analytics benchmarks store, so a quick run can use far fewer than
// the default.
const BenchEventsVar = "TRACKSTACK_BENCH_EVENTS"

// BenchEvents returns the number of events in BenchEventsVar, else def.
func BenchEvents(b *testing.B, def int) int {
	b.Helper()
	v := os.Getenv(BenchEventsVar)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number of events", BenchEventsVar, v)
	}
	return n
}

// benchDays is the range the analytics benchmarks fill and query.
const benchDays = 30

// BenchAnalytics stores n events of site shop spread evenly over 30 days
// (Realistic events in sessions as the ingest makes them: see fill), and
// one in ten of site other. It measures Totals and Series by day over the
// 30 days from raw events ("raw/..."), rolls the site up to the last hour
// (reporting how long that took), and measures them again as the
// dashboard runs them, the last hour open and read raw ("rollups/...",
// Overview30d being the overview's two Totals: the range and the one
// before). Each sub-benchmark reports the p50 and p95 of its calls.
// settle, when not nil, runs between the fill and the measurements (to
// gather statistics, as a database that ran for 30 days has them).
func BenchAnalytics(b *testing.B, s store.Store, n int, settle func(b *testing.B)) {
	a, ok := s.(store.Analytics)
	if !ok {
		b.Fatalf("%T does not implement store.Analytics", s)
	}
	ctx := context.Background()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, benchDays)
	fill(b, s, n, from, to)
	if settle != nil {
		settle(b)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	q := store.Query{Site: "shop", From: from, To: to, Location: berlin}
	prev := q
	prev.From, prev.To = from.AddDate(0, 0, -benchDays), from
	totals := func() error { _, err := a.Totals(ctx, q); return err }
	series := func() error { _, err := a.Series(ctx, q, 24*time.Hour); return err }
	b.Run("raw/Totals30d", func(b *testing.B) { measure(b, totals) })
	b.Run("raw/SeriesByDay30d", func(b *testing.B) { measure(b, series) })

	r, ok := s.(store.Roller)
	if !ok {
		b.Fatalf("%T does not implement store.Roller", s)
	}
	start := time.Now()
	if err := r.RollUp(ctx, "shop", to.Add(-time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.Logf("rolled up 30 days of %d events in %v", n, time.Since(start).Round(time.Millisecond))
	if settle != nil {
		settle(b)
	}
	b.Run("rollups/Totals30d", func(b *testing.B) { measure(b, totals) })
	b.Run("rollups/Overview30d", func(b *testing.B) {
		measure(b, func() error {
			if err := totals(); err != nil {
				return err
			}
			_, err := a.Totals(ctx, prev)
			return err
		})
	})
	b.Run("rollups/SeriesByDay30d", func(b *testing.B) { measure(b, series) })
}

// fill inserts n events over [from, to) in batches. Sessions are what the
// ingest makes (it ends one after 30 minutes without an event): five
// events each, about four minutes long, many at once; a visitor comes
// back about three times in the 30 days; one event in 50 is a purchase.
func fill(b *testing.B, s store.Store, n int, from, to time.Time) {
	b.Helper()
	const batchSize, perSession = 5000, 5
	gap := to.Sub(from) / time.Duration(n)
	concurrent := max(1, int(time.Minute/gap))
	visitors := max(1, n/perSession/3)
	batch := make([]event.Event, 0, batchSize)
	for i := range n {
		site := "shop"
		if i%10 == 9 {
			site = "other"
		}
		e := Realistic(site, i, from.Add(time.Duration(i)*gap))
		session := (i/concurrent/perSession)*concurrent + i%concurrent
		e.SessionID = "s" + strconv.Itoa(session) + "-4e9a0c"
		e.VisitorID = "v" + strconv.Itoa(session%visitors) + "-8c1f2a7b93d4"
		arrive(&e, session, session%visitors)
		if i%50 == 7 {
			v := float64(i%200) + 0.5
			e.Type, e.Name, e.Value = event.TypeConversion, "purchase", &v
			e.UserID = "u" + strconv.Itoa(session%visitors)
		}
		batch = append(batch, e)
		if len(batch) == batchSize || i == n-1 {
			if got, err := s.Insert(context.Background(), batch); err != nil || got != len(batch) {
				b.Fatalf("Insert = %d, %v; want %d", got, err, len(batch))
			}
			batch = batch[:0]
		}
	}
}

// arrival is how a session reached the site: its UTM tags, referrer and
// channel.
type arrival struct {
	utm      event.UTM
	referrer string
	channel  string
}

// arrivals are the sessions' ways in, so that reports and rollups see a
// site's usual spread of sources, channels and campaigns rather than one.
var arrivals = func() []arrival {
	var a []arrival
	for _, c := range []string{"spring_sale_2026", "brand", "trail_shoes", "retargeting", "summer_preview"} {
		a = append(a, arrival{event.UTM{Source: "google", Medium: "cpc", Campaign: c}, "https://www.google.com/", event.ChannelPaidSearch})
	}
	for _, c := range []string{"spring_sale_2026", "lookalike", "retargeting"} {
		a = append(a, arrival{event.UTM{Source: "facebook", Medium: "paid_social", Campaign: c}, "https://m.facebook.com/", event.ChannelPaidSocial})
	}
	for _, c := range []string{"newsletter_march", "newsletter_april"} {
		a = append(a, arrival{event.UTM{Source: "newsletter", Medium: "email", Campaign: c}, "", event.ChannelEmail})
	}
	for _, host := range []string{"https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/"} {
		a = append(a, arrival{referrer: host, channel: event.ChannelOrganicSearch})
	}
	for _, host := range []string{"https://news.ycombinator.com/", "https://www.reddit.com/", "https://runnersworld.example/"} {
		a = append(a, arrival{referrer: host, channel: event.ChannelReferral})
	}
	for range 4 {
		a = append(a, arrival{channel: event.ChannelDirect})
	}
	return a
}()

var devices = []event.Device{
	{Browser: "Chrome", OS: "Android", Type: "mobile"},
	{Browser: "Safari", OS: "iOS", Type: "mobile"},
	{Browser: "Chrome", OS: "Windows", Type: "desktop"},
	{Browser: "Safari", OS: "macOS", Type: "desktop"},
	{Browser: "Safari", OS: "iPadOS", Type: "tablet"},
}

// arrive gives e the arrival of its session and the device of its
// visitor.
func arrive(e *event.Event, session, visitor int) {
	a := arrivals[(session*7919)%len(arrivals)]
	e.UTM, e.Referrer, e.Channel = a.utm, a.referrer, a.channel
	e.Device = devices[(visitor*31)%len(devices)]
}

// FillSessions stores n events over benchDays days from BenchFrom as the
// analytics benchmarks do (see fill): for benchmarks of other packages
// over the same data. Purchases carry a user id per visitor.
func FillSessions(b *testing.B, s store.Store, n int) (from, to time.Time) {
	from = BenchFrom
	to = from.AddDate(0, 0, benchDays)
	fill(b, s, n, from, to)
	return from, to
}

// BenchFrom is where the benchmarks' data starts.
var BenchFrom = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// Measure times each call and reports the p50 and p95 in milliseconds.
func Measure(b *testing.B, call func() error) { measure(b, call) }

// measure times each call and reports the p50 and p95 in milliseconds.
func measure(b *testing.B, call func() error) {
	b.Helper()
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	at := func(p float64) float64 {
		return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}
