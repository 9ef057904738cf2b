package attribution

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenModels are the models of allModels with labels that tell the
// variants of one model apart.
var goldenModels = []struct {
	label string
	model Model
}{
	{"first_touch", FirstTouch},
	{"last_touch", LastTouch},
	{"last_non_direct", LastNonDirect},
	{"linear", Linear},
	{"position_based", PositionBased},
	{"time_decay", TimeDecay{}},
	{"time_decay_1h", TimeDecay{HalfLife: time.Hour}},
	{"data_driven", DataDriven{}},
	{"data_driven_min1", DataDriven{MinConvertingPaths: 1}},
}

// goldenSets are fixed-seed journey sets: random ones of several sizes
// (the large ones with values kept small enough to stay within 2^53 cents)
// and ones full of ties in time.
func goldenSets() []struct {
	name     string
	journeys []Journey
} {
	r := rand.New(rand.NewPCG(11, 12))
	type set = struct {
		name     string
		journeys []Journey
	}
	return []set{
		{"random-1", randomJourneys(r, 1)},
		{"random-7", randomJourneys(r, 7)},
		{"random-40", randomJourneys(r, 40)},
		{"random-300", smallValues(randomJourneys(r, 300))},
		{"random-3000", smallValues(randomJourneys(r, 3000))},
		{"ties-40", tiedJourneys(r, 40)},
		{"ties-600", tiedJourneys(r, 600)},
		{"long-200", longJourneys(r, 200)},
	}
}

// smallValues caps conversion values below 1000.
func smallValues(js []Journey) []Journey {
	for i := range js {
		for k := range js[i].Conversions {
			if js[i].Conversions[k].Value > 1000 {
				js[i].Conversions[k].Value = 999.99
			}
		}
	}
	return js
}

// tiedJourneys makes journeys whose touches and conversions fall on a few
// whole days, so touches tie in time (broken by channel, source, campaign),
// touches coincide with conversions and lie exactly a window before them.
func tiedJourneys(r *rand.Rand, n int) []Journey {
	channels := []string{event.ChannelDirect, "", event.ChannelEmail, event.ChannelPaidSearch}
	sources := []string{"", "google", "meta"}
	campaigns := []string{"", "spring", "brand"}
	at := func() time.Time { return t0.Add(-time.Duration(r.IntN(9)) * 24 * time.Hour) }
	js := make([]Journey, n)
	for i := range js {
		for range r.IntN(8) {
			js[i].Touches = append(js[i].Touches, Touch{
				At: at(), Channel: channels[r.IntN(len(channels))],
				Source: sources[r.IntN(len(sources))], Campaign: campaigns[r.IntN(len(campaigns))],
			})
		}
		for range r.IntN(3) {
			js[i].Conversions = append(js[i].Conversions, Conversion{At: at(), Value: float64(r.IntN(100000)) / 1000})
		}
	}
	return js
}

// longJourneys makes journeys of up to 40 touches and 5 conversions over
// 120 days, so that windows are searched in long touch lists.
func longJourneys(r *rand.Rand, n int) []Journey {
	js := randomJourneys(r, n)
	for i := range js {
		for range r.IntN(35) {
			t := js[i].Touches
			if len(t) == 0 {
				t = randomJourneys(r, 1)[0].Touches
			}
			if len(t) > 0 {
				c := t[r.IntN(len(t))]
				c.At = c.At.Add(time.Duration(r.IntN(20*24)-10*24) * time.Hour)
				js[i].Touches = append(js[i].Touches, c)
			}
		}
		for range r.IntN(3) {
			js[i].Conversions = append(js[i].Conversions, Conversion{At: t0.Add(-time.Duration(r.IntN(120*24)) * time.Hour), Value: float64(r.IntN(100000)) / 100})
		}
	}
	return smallValues(js)
}

// sortedCopy is js with each journey's touches in the package's order, to
// check that sorted input gives the same answer as shuffled input.
func sortedCopy(js []Journey) []Journey {
	out := make([]Journey, len(js))
	for i, j := range js {
		ts := slices.Clone(j.Touches)
		slices.SortFunc(ts, compareTouches)
		out[i] = Journey{Touches: ts, Conversions: j.Conversions}
	}
	return out
}

// goldenText is every model × window × dimension on js, rows in order,
// numbers written so that they read back to the same bits.
func goldenText(js []Journey) string {
	var b strings.Builder
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, gm := range goldenModels {
		for _, w := range allWindows {
			for _, d := range allDimensions {
				fmt.Fprintf(&b, "== %s %dd %s\n", gm.label, w, d)
				rows, err := gm.model.Attribute(js, d, w)
				if err != nil {
					fmt.Fprintf(&b, "error: %v\n", err)
					continue
				}
				for _, c := range rows {
					fmt.Fprintf(&b, "%q %s %s\n", c.Key, f(c.Conversions), f(c.Revenue))
				}
			}
		}
	}
	return b.String()
}

// TestGolden pins every model's output to the bit on fixed journey sets, so
// that work on speed cannot change a result. Regenerate with -update only
// when the semantics are meant to change.
func TestGolden(t *testing.T) {
	for _, set := range goldenSets() {
		t.Run(set.name, func(t *testing.T) {
			path := filepath.Join("testdata", "golden-"+set.name+".txt")
			got := goldenText(set.journeys)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, path, got, string(want))
			checkGolden(t, path+" (sorted input)", goldenText(sortedCopy(set.journeys)), string(want))
		})
	}
}

// checkGolden reports the first line where got and want differ.
func checkGolden(t *testing.T, name, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			t.Fatalf("%s: line %d: got %q, want %q", name, i+1, g[i], w[i])
		}
	}
	t.Fatalf("%s: got %d lines, want %d", name, len(g), len(w))
}
