package attribution

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// BenchmarkModels attributes 100k synthetic journeys (the random ones of
// the property test, with order values under 1000 so the total stays within
// 2^53 cents) with each model by channel over 30 days.
func BenchmarkModels(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	js := randomJourneys(r, 100_000)
	for i := range js {
		for k := range js[i].Conversions {
			if js[i].Conversions[k].Value > 1000 {
				js[i].Conversions[k].Value = 999.99
			}
		}
	}
	for _, m := range Models() {
		b.Run(m.Name(), func(b *testing.B) {
			for b.Loop() {
				if _, err := m.Attribute(js, DimensionChannel, Window30Days); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// siteArrivals are the ways in of the benchmark site's sessions
// (storetest's arrivals): channel, utm source and utm campaign.
var siteArrivals = func() []Touch {
	var a []Touch
	for _, c := range []string{"spring_sale_2026", "brand", "trail_shoes", "retargeting", "summer_preview"} {
		a = append(a, Touch{Channel: event.ChannelPaidSearch, Source: "google", Campaign: c})
	}
	for _, c := range []string{"spring_sale_2026", "lookalike", "retargeting"} {
		a = append(a, Touch{Channel: event.ChannelPaidSocial, Source: "facebook", Campaign: c})
	}
	for _, c := range []string{"newsletter_march", "newsletter_april"} {
		a = append(a, Touch{Channel: event.ChannelEmail, Source: "newsletter", Campaign: c})
	}
	for range 3 {
		a = append(a, Touch{Channel: event.ChannelOrganicSearch})
	}
	for range 3 {
		a = append(a, Touch{Channel: event.ChannelReferral})
	}
	for range 4 {
		a = append(a, Touch{Channel: event.ChannelDirect})
	}
	return a
}()

// siteJourneys is the shape the dashboard builds on the benchmark site (10M
// events over 30 days): n people with one to five touches (three on
// average) oldest first, as the store returns them, from a window before
// the range on; about 28% convert once, inside the range.
func siteJourneys(r *rand.Rand, n int, window Window) []Journey {
	from := t0
	const rangeMinutes = 30 * 24 * 60
	windowMinutes := int(window.Duration() / time.Minute)
	minute := func(m int) time.Time { return from.Add(time.Duration(m) * time.Minute) }
	js := make([]Journey, n)
	for i := range js {
		at := r.IntN(rangeMinutes+windowMinutes) - windowMinutes
		ts := make([]Touch, 1+r.IntN(5))
		for k := range ts {
			ts[k] = siteArrivals[r.IntN(len(siteArrivals))]
			ts[k].At = minute(at)
			at += 1 + r.IntN(3*24*60)
		}
		js[i].Touches = ts
		if r.IntN(100) < 28 {
			last := int(ts[len(ts)-1].At.Sub(from) / time.Minute)
			c := max(0, last-r.IntN(2*24*60))
			if c < rangeMinutes {
				js[i].Conversions = []Conversion{{At: minute(c), Value: float64(r.IntN(20000)) / 100}}
			}
		}
	}
	return js
}

// BenchmarkSiteModels attributes the benchmark site's 666k journeys (about
// 2M touches, 180k conversions) with each model by channel over 30 days.
func BenchmarkSiteModels(b *testing.B) {
	js := siteJourneys(rand.New(rand.NewPCG(5, 6)), 666_000, Window30Days)
	for _, m := range Models() {
		b.Run(m.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Attribute(js, DimensionChannel, Window30Days); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
