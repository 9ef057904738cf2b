package dashboard

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/attribution"
	"github.com/trackstack/trackstack/runtime/store"
)

// randomTouchpoints are n touchpoints oldest first, as the store returns
// them, of about n/4 people: session starts, conversions (refunds and ones
// outside [from, to) included) and conversions that start a session.
func randomTouchpoints(r *rand.Rand, n int, from, to time.Time) []store.Touchpoint {
	channels := []string{"", "direct", "email", "paid_search", "referral"}
	campaigns := []string{"", "spring", "brand"}
	span := to.Sub(from)
	at := from.Add(-span)
	points := make([]store.Touchpoint, n)
	for i := range points {
		at = at.Add(time.Duration(r.Int64N(int64(3 * span / time.Duration(n+1)))))
		p := store.Touchpoint{
			Who: fmt.Sprintf("person-%d", r.IntN(n/4+1)), At: at,
			Channel: channels[r.IntN(len(channels))], Source: fmt.Sprint("src", r.IntN(3)), Campaign: campaigns[r.IntN(len(campaigns))],
		}
		switch r.IntN(4) {
		case 0:
			p.Conversion, p.Value = true, float64(r.IntN(10000))/100
		case 1:
			p.Conversion, p.Value = true, -float64(r.IntN(10000))/100
		case 2:
			p.Touch, p.Conversion, p.Value = true, true, 5
		default:
			p.Touch = true
		}
		points[i] = p
	}
	return points
}

// journeysByMap is how journeys were built before buildJourneys: a map of
// growing journeys, sorted by person at the end. buildJourneys must give
// the same.
func journeysByMap(points []store.Touchpoint, from, to time.Time) []attribution.Journey {
	byWho := map[string]*attribution.Journey{}
	var order []string
	for _, t := range points {
		j := byWho[t.Who]
		if j == nil {
			j = &attribution.Journey{}
			byWho[t.Who] = j
			order = append(order, t.Who)
		}
		if t.Touch {
			j.Touches = append(j.Touches, attribution.Touch{At: t.At, Channel: t.Channel, Source: t.Source, Campaign: t.Campaign})
		}
		if t.Conversion && t.Value >= 0 && !t.At.Before(from) && t.At.Before(to) {
			j.Conversions = append(j.Conversions, attribution.Conversion{At: t.At, Value: t.Value})
		}
	}
	sort.Strings(order)
	out := make([]attribution.Journey, 0, len(order))
	for _, who := range order {
		out = append(out, *byWho[who])
	}
	return out
}

func TestBuildJourneys(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 30)
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 10, 100, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			points := randomTouchpoints(r, n, from, to)
			got, want := buildJourneys(points, from, to), journeysByMap(points, from, to)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
}

// BenchmarkBuildJourneys groups 2.4M touchpoints of 666k people, the
// benchmark site's 30 days and window before them.
func BenchmarkBuildJourneys(b *testing.B) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 30)
	points := randomTouchpoints(rand.New(rand.NewPCG(3, 4)), 2_400_000, from, to)
	for i := range points {
		// Each row's strings are its own, as a database driver scans them.
		points[i].Channel = string([]byte(points[i].Channel))
		points[i].Source = string([]byte(points[i].Source))
		points[i].Campaign = string([]byte(points[i].Campaign))
	}
	for _, bc := range []struct {
		name  string
		build func([]store.Touchpoint, time.Time, time.Time) []attribution.Journey
	}{{"map", journeysByMap}, {"counted", buildJourneys}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.build(points, from, to)
			}
		})
	}
}
