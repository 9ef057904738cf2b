package attribution

import (
	"math/rand/v2"
	"testing"
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
