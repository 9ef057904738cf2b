// Package demodata generates a month of plausible traffic for a site, so a
// new standalone stack shows a dashboard with something in it: visits from
// search, social, email and referrals, campaigns with ad click ids, several
// devices, and sales. The events carry {"demo": true} in their properties,
// and the dashboard labels a site with demo data as such.
//
// It is deterministic for a seed, and only ever run on request (the
// standalone --demo-data flag, which `make run` passes).
package demodata

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
)

// Writer is where the events go (a store).
type Writer interface {
	Insert(ctx context.Context, events []event.Event) (int, error)
}

// Options shape the generated traffic.
type Options struct {
	Site string
	// Host is the site's host for page URLs, e.g. localhost:8080.
	Host string
	// Days of traffic up to End (default 30).
	Days int
	// VisitorsPerDay on an average weekday (default 120).
	VisitorsPerDay int
	// End is the end of the generated range (default now).
	End  time.Time
	Seed uint64
}

// demoProps marks every generated event.
var demoProps = json.RawMessage(`{"demo":true}`)

// arrival is one way visitors come, with its share of visits.
type arrival struct {
	weight   int
	referrer string
	utm      event.UTM
	clickID  string // key of the ad click id it carries
}

var arrivals = []arrival{
	{30, "https://www.google.com/", event.UTM{}, ""},
	{18, "", event.UTM{}, ""},
	{14, "https://www.google.com/", event.UTM{Source: "google", Medium: "cpc", Campaign: "winter_sale"}, "gclid"},
	{10, "https://m.facebook.com/", event.UTM{Source: "facebook", Medium: "paid_social", Campaign: "winter_sale"}, "fbclid"},
	{6, "https://www.tiktok.com/", event.UTM{Source: "tiktok", Medium: "paid_social", Campaign: "new_arrivals"}, "ttclid"},
	{8, "", event.UTM{Source: "newsletter", Medium: "email", Campaign: "weekly_digest"}, ""},
	{7, "https://www.instagram.com/", event.UTM{}, ""},
	{7, "https://blog.example.org/best-running-shoes", event.UTM{}, ""},
}

var pages = []string{"/", "/products/trail-runner", "/products/road-racer", "/products/city-walker", "/pricing", "/blog/how-to-choose", "/cart", "/checkout"}

var devices = []struct {
	weight int
	device event.Device
}{
	{55, event.Device{Browser: "Chrome", OS: "Android", Type: "mobile"}},
	{20, event.Device{Browser: "Safari", OS: "iOS", Type: "mobile"}},
	{15, event.Device{Browser: "Chrome", OS: "Windows", Type: "desktop"}},
	{7, event.Device{Browser: "Firefox", OS: "Linux", Type: "desktop"}},
	{3, event.Device{Browser: "Safari", OS: "iPadOS", Type: "tablet"}},
}

// Generate writes the traffic and returns how many events it stored.
func Generate(ctx context.Context, w Writer, o Options) (int, error) {
	if o.Days <= 0 {
		o.Days = 30
	}
	if o.VisitorsPerDay <= 0 {
		o.VisitorsPerDay = 120
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	g := &generator{o: o, rnd: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
	total := 0
	for day := o.Days - 1; day >= 0; day-- {
		evs := g.day(o.End.Add(-time.Duration(day+1) * 24 * time.Hour))
		n, err := w.Insert(ctx, evs)
		if err != nil {
			return total, fmt.Errorf("while storing demo traffic: %w", err)
		}
		total += n
	}
	return total, nil
}

type generator struct {
	o   Options
	rnd *rand.Rand
	seq int
}

// day generates one day's visits starting at start.
func (g *generator) day(start time.Time) []event.Event {
	n := g.o.VisitorsPerDay
	if wd := start.Weekday(); wd == time.Saturday || wd == time.Sunday {
		n = n * 7 / 10
	}
	n += g.rnd.IntN(n/4 + 1)
	var evs []event.Event
	for range n {
		at := start.Add(time.Duration(g.rnd.Int64N(int64(24 * time.Hour))))
		if at.After(g.o.End) {
			continue
		}
		evs = append(evs, g.visit(at)...)
	}
	return evs
}

// visit is one session: a few page views, and now and then a sale.
func (g *generator) visit(at time.Time) []event.Event {
	g.seq++
	a := pick(g.rnd, arrivals, func(a arrival) int { return a.weight })
	dev := pick(g.rnd, devices, func(d struct {
		weight int
		device event.Device
	}) int {
		return d.weight
	}).device
	visitor := fmt.Sprintf("demo-v%05d", g.rnd.IntN(g.o.VisitorsPerDay*g.o.Days*2/3+1))
	base := event.Event{
		Site: g.o.Site, Source: event.SourceBrowser, VisitorID: visitor, SessionID: fmt.Sprintf("demo-s%06d", g.seq),
		Referrer: a.referrer, UTM: a.utm, Device: dev, Properties: demoProps,
		Consent: event.Consent{AdStorage: event.Granted, AnalyticsStorage: event.Granted, AdUserData: event.Granted, AdPersonalization: event.Granted},
	}
	if a.clickID != "" {
		base.ClickIDs = map[string]string{a.clickID: fmt.Sprintf("demo-%s-%06d", a.clickID, g.seq)}
	}
	base.Channel, _ = enrich.Classify(enrich.Touch{Referrer: a.referrer, UTM: a.utm, ClickIDs: base.ClickIDs, SiteDomains: []string{g.o.Host}})
	views := 1 + g.rnd.IntN(5)
	var evs []event.Event
	for i := range views {
		e := base
		e.EventID = fmt.Sprintf("demo-%06d-%d", g.seq, i)
		e.Type, e.Name = event.TypePageview, "pageview"
		e.Timestamp = at.Add(time.Duration(i*35+g.rnd.IntN(30)) * time.Second)
		e.ReceivedAt = e.Timestamp
		e.URL = "http://" + g.o.Host + pages[g.rnd.IntN(len(pages))]
		if i > 0 {
			e.Referrer = ""
		}
		evs = append(evs, e)
	}
	if views >= 3 && g.rnd.IntN(100) < 12 {
		evs = append(evs, g.sale(base, evs[len(evs)-1].Timestamp.Add(20*time.Second)))
	}
	return evs
}

// sale is a purchase at the end of a visit.
func (g *generator) sale(base event.Event, at time.Time) event.Event {
	v := float64(39+g.rnd.IntN(160)) + 0.9
	e := base
	e.EventID = fmt.Sprintf("demo-%06d-purchase", g.seq)
	e.Type, e.Name = event.TypeConversion, "purchase"
	e.Timestamp, e.ReceivedAt = at, at
	e.URL = "http://" + g.o.Host + "/checkout"
	e.Value, e.Currency, e.OrderID = &v, "EUR", fmt.Sprintf("DEMO-%06d", g.seq)
	return e
}

// pick chooses an element with probability proportional to its weight.
func pick[T any](rnd *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := rnd.IntN(total)
	for _, it := range items {
		if n -= weight(it); n < 0 {
			return it
		}
	}
	return items[len(items)-1]
}
