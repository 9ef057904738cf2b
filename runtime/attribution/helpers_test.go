package attribution

import (
	"math"
	"testing"
	"time"
)

// t0 is the conversion time most tests use.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// day is t0 moved by d days (negative: before).
func day(d float64) time.Time { return t0.Add(time.Duration(d * float64(24*time.Hour))) }

// ch is a touch on channel c at day d.
func ch(c string, d float64) Touch { return Touch{At: day(d), Channel: c} }

// conv is a conversion worth v at day d.
func conv(v, d float64) Conversion { return Conversion{At: day(d), Value: v} }

// journey is one converting journey.
func journey(cs []Conversion, ts ...Touch) Journey { return Journey{Touches: ts, Conversions: cs} }

// one is a single conversion worth v at t0.
func one(v float64) []Conversion { return []Conversion{conv(v, 0)} }

// repeat is n copies of j.
func repeat(n int, j Journey) []Journey {
	out := make([]Journey, n)
	for i := range out {
		out[i] = j
	}
	return out
}

// assertCredits checks rows against want (key → conversions, revenue), to
// 1e-9 of a conversion and to the cent.
func assertCredits(t *testing.T, got []Credit, want map[string][2]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows %v, want %d %v", len(got), got, len(want), want)
	}
	for _, c := range got {
		w, ok := want[c.Key]
		if !ok {
			t.Errorf("unexpected row %+v", c)
			continue
		}
		if math.Abs(c.Conversions-w[0]) > 1e-9 || math.Abs(c.Revenue-w[1]) > 0.005 {
			t.Errorf("%s: got %.10f conversions, %.2f revenue; want %.10f, %.2f", c.Key, c.Conversions, c.Revenue, w[0], w[1])
		}
	}
}
