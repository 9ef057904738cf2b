package attribution

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
)

// compact is the journeys (without conversions) as an Unconverted, each
// journey's steps in a random order, values numbered as met.
func compact(r *rand.Rand, js []Journey) *Unconverted {
	u := &Unconverted{Starts: []int{0}}
	index := map[string]int32{}
	value := func(v string) int32 {
		i, ok := index[v]
		if !ok {
			i = int32(len(u.Values))
			index[v] = i
			u.Values = append(u.Values, v)
		}
		return i
	}
	for _, j := range js {
		for _, t := range j.Touches {
			u.Steps = append(u.Steps, Step{At: t.At.UnixMicro(), Channel: value(t.Channel), Source: value(t.Source), Campaign: value(t.Campaign)})
		}
		steps := u.Steps[u.Starts[len(u.Starts)-1]:]
		r.Shuffle(len(steps), func(a, b int) { steps[a], steps[b] = steps[b], steps[a] })
		u.Starts = append(u.Starts, len(u.Steps))
	}
	return u
}

// TestAttributeWith checks that every model credits converting journeys
// plus an Unconverted exactly as it credits those journeys followed by
// the ones the Unconverted stands for, to the bit, in every dimension
// and window; touches that tie in time included.
func TestAttributeWith(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 11))
	var converting, rest []Journey
	// Tied journeys fall on whole days: touches tie in time and lie
	// exactly a window before the newest.
	for _, j := range append(randomJourneys(r, 3000), tiedJourneys(r, 1000)...) {
		for k := range j.Conversions {
			j.Conversions[k].Value = min(j.Conversions[k].Value, 999.99) // the total within 2^53 cents
		}
		if len(j.Conversions) > 0 {
			converting = append(converting, j)
		} else {
			rest = append(rest, j)
		}
	}
	u := compact(r, rest)
	expanded := u.Journeys()
	if len(expanded) != len(rest) {
		t.Fatalf("Journeys gave %d journeys, want %d", len(expanded), len(rest))
	}
	for i := range rest {
		if a, b := sortedTouches(expanded[i].Touches), sortedTouches(rest[i].Touches); !reflect.DeepEqual(a, b) && len(a)+len(b) > 0 {
			t.Fatalf("journey %d expands to %v, want %v", i, a, b)
		}
	}
	all := append(append([]Journey(nil), converting...), expanded...)
	for _, m := range allModels {
		for _, w := range allWindows {
			for _, d := range allDimensions {
				want, err := m.Attribute(all, d, w)
				if err != nil {
					t.Fatal(err)
				}
				got, err := AttributeAll(m, converting, u, d, w)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s, %s, %dd: with Unconverted %v, as journeys %v", m.Name(), d, w, got, want)
				}
			}
		}
	}
}

// TestMalformedUnconverted checks that an Unconverted whose parts do not
// fit is an error, never a panic or a silent answer.
func TestMalformedUnconverted(t *testing.T) {
	steps := []Step{{At: 1}, {At: 2, Channel: 1}}
	for name, u := range map[string]*Unconverted{
		"steps without journeys": {Values: []string{"a", "b"}, Steps: steps},
		"starts past the steps":  {Values: []string{"a", "b"}, Steps: steps, Starts: []int{0, 3}},
		"starts short":           {Values: []string{"a", "b"}, Steps: steps, Starts: []int{0, 1}},
		"starts decreasing":      {Values: []string{"a", "b"}, Steps: steps, Starts: []int{0, 2, 1, 2}},
		"value out of range":     {Values: []string{"a"}, Steps: steps, Starts: []int{0, 2}},
		"negative value":         {Values: []string{"a", "b"}, Steps: []Step{{Source: -1}}, Starts: []int{0, 1}},
	} {
		_, err := DataDriven{}.AttributeWith(nil, u, DimensionChannel, Window30Days)
		if !errors.Is(err, ErrUnconverted) {
			t.Errorf("%s: got %v, want ErrUnconverted", name, err)
		}
	}
}
