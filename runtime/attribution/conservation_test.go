package attribution

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// allModels is every model, data-driven both with its default threshold
// (random sets often fall back) and with one that always runs the chain.
var allModels = []Model{
	FirstTouch, LastTouch, LastNonDirect, Linear, PositionBased,
	TimeDecay{}, TimeDecay{HalfLife: time.Hour},
	DataDriven{}, DataDriven{MinConvertingPaths: 1},
}

var (
	allWindows    = []Window{Window1Day, Window7Days, Window30Days, Window90Days}
	allDimensions = []Dimension{DimensionChannel, DimensionSource, DimensionCampaign}
)

// randomJourneys makes journeys with zero to six touches on a few channels
// (direct and empty included), times on whole hours within 120 days so
// ties happen and some conversions see nothing in their window, zero to
// three conversions with values in fractions of a cent (zero and the
// maximum included) and refunds the caller leaves out, as it must.
func randomJourneys(r *rand.Rand, n int) []Journey {
	channels := []string{event.ChannelDirect, "", event.ChannelEmail, event.ChannelPaidSearch, event.ChannelPaidSocial, event.ChannelReferral}
	sources := []string{"", "google", "meta", "newsletter"}
	campaigns := []string{"", "spring", "brand", "retarget"}
	hour := func() time.Time { return t0.Add(-time.Duration(r.IntN(120*24)) * time.Hour) }
	js := make([]Journey, n)
	for i := range js {
		for range r.IntN(7) {
			js[i].Touches = append(js[i].Touches, Touch{
				At: hour(), Channel: channels[r.IntN(len(channels))],
				Source: sources[r.IntN(len(sources))], Campaign: campaigns[r.IntN(len(campaigns))],
			})
		}
		for range r.IntN(4) {
			v := math.Round(r.Float64()*100000) / 1000
			switch r.IntN(10) {
			case 0:
				v = 0
			case 1:
				v = event.MaxAbsValue
			case 2:
				v = -v // a refund
			}
			if v >= 0 {
				js[i].Conversions = append(js[i].Conversions, Conversion{At: hour(), Value: v})
			}
		}
	}
	return js
}

// totals is what the journeys must credit: nano-conversions and cents.
func totals(js []Journey) (nanos, cents int64) {
	for _, j := range js {
		for _, c := range j.Conversions {
			nanos += nanosPerConversion
			cents += int64(math.Round(c.Value * 100))
		}
	}
	return nanos, cents
}

// shuffled is js with each journey's touches in a random order.
func shuffled(r *rand.Rand, js []Journey) []Journey {
	out := make([]Journey, len(js))
	for i, j := range js {
		ts := append([]Touch(nil), j.Touches...)
		r.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
		out[i] = Journey{Touches: ts, Conversions: j.Conversions}
	}
	return out
}

func TestConservation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 150 {
		js := randomJourneys(r, r.IntN(40))
		wantNanos, wantCents := totals(js)
		for mi, m := range allModels {
			for _, w := range allWindows {
				for _, d := range allDimensions {
					name := fmt.Sprintf("round %d, model %d (%s), %dd, %s", round, mi, m.Name(), w, d)
					got, err := m.Attribute(js, d, w)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					checkConserved(t, name, got, wantNanos, wantCents)
					again, err := m.Attribute(shuffled(r, js), d, w)
					if err != nil || !reflect.DeepEqual(got, again) {
						t.Fatalf("%s: touch order changed the result:\n%v\n%v (%v)", name, got, again, err)
					}
				}
			}
		}
	}
}

// checkConserved asserts the rows add up to the totals exactly in integer
// units, to 1e-9 and to the cent as floats, and that no row is negative.
func checkConserved(t *testing.T, name string, rows []Credit, wantNanos, wantCents int64) {
	t.Helper()
	var nanos, cents int64
	var conv, rev float64
	for _, c := range rows {
		if c.Conversions < 0 || c.Revenue < 0 {
			t.Fatalf("%s: negative row %+v", name, c)
		}
		nanos += int64(math.Round(c.Conversions * nanosPerConversion))
		cents += int64(math.Round(c.Revenue * 100))
		conv += c.Conversions
		rev += c.Revenue
	}
	if nanos != wantNanos || cents != wantCents {
		t.Fatalf("%s: credited %d nano-conversions, %d cents; want %d, %d", name, nanos, cents, wantNanos, wantCents)
	}
	if math.Abs(conv-float64(wantNanos)/nanosPerConversion) > 1e-9 || math.Abs(rev-float64(wantCents)/100) > 0.005 {
		t.Fatalf("%s: float sums %.12f, %.4f; want %d nanos, %d cents", name, conv, rev, wantNanos, wantCents)
	}
}

func TestApportion(t *testing.T) {
	tests := []struct {
		name    string
		amounts []float64 // of keys a, b and c
		total   int64
		want    []int64
	}{
		// Thirds of 10: 3.33 each, floors 9, the one left to the first by key.
		{"thirds", []float64{10. / 3, 10. / 3, 10. / 3}, 10, []int64{4, 3, 3}},
		// Largest remainder: .9 beats .5 and .6.
		{"largest remainder", []float64{1.5, 2.6, 0.9}, 5, []int64{1, 3, 1}},
		// Float sums that overshoot: one unit back from the smallest remainder.
		{"overshoot", []float64{2, 2.1, 1}, 4, []int64{2, 2, 0}},
		// A residue beyond one unit per key goes round again.
		{"large residue", []float64{0, 0, 0}, 7, []int64{3, 2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := apportion(tc.amounts, tc.total); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestUnconvertedJourneysLeftOut checks UsesUnconverted: every model it
// says does not read journeys without a conversion credits the same, to
// the bit, without them; and DataDriven, which does, credits differently
// here (its chain loses the paths that led nowhere).
func TestUnconvertedJourneysLeftOut(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 2))
	all := randomJourneys(r, 3000)
	var converting []Journey
	for _, j := range all {
		for k := range j.Conversions {
			j.Conversions[k].Value = min(j.Conversions[k].Value, 999.99) // the total within 2^53 cents
		}
		if len(j.Conversions) > 0 {
			converting = append(converting, j)
		}
	}
	for _, m := range Models() {
		a, err := m.Attribute(all, DimensionChannel, Window30Days)
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Attribute(converting, DimensionChannel, Window30Days)
		if err != nil {
			t.Fatal(err)
		}
		same := reflect.DeepEqual(a, c)
		if UsesUnconverted(m) == same {
			t.Errorf("%s: UsesUnconverted %v, but credits without unconverted journeys are the same: %v", m.Name(), UsesUnconverted(m), same)
		}
	}
}
