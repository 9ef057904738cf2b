package attribution

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// markovDataset is small enough to solve by hand (channel dimension):
//
//	6 × email(−3d) → paid_search(−1d) → sale of 100
//	4 × paid_search(−1d)              → sale of 100
//	5 × email(−1d)                    → no sale
//
// Transitions: START→email 11, START→paid 4 (of 15); email→paid 6,
// email→NULL 5 (of 11); paid→CONVERSION 10 (of 10).
// P(conversion) = 11/15·6/11·1 + 4/15·1 = 6/15 + 4/15 = 2/3.
// Without email: 4/15, RE(email) = (2/3 − 4/15)/(2/3) = 6/10 = 0.6.
// Without paid: 0, RE(paid) = 1.
// Six email→paid sales split 0.6 : 1 = 0.375 : 0.625; four paid-only go to paid:
//
//	email: 6·0.375 = 2.25 sales, 225
//	paid:  6·0.625 + 4 = 7.75 sales, 775
func markovDataset(emailPaidSales int) []Journey {
	js := repeat(emailPaidSales, journey(one(100), ch(email, -3), ch(paid, -1)))
	js = append(js, repeat(4, journey(one(100), ch(paid, -1)))...)
	return append(js, repeat(5, Journey{Touches: []Touch{ch(email, -1)}})...)
}

func TestRemovalEffects(t *testing.T) {
	keys := newKeyTable()
	var paths [][]int32
	for _, j := range markovDataset(6) {
		paths = append(paths, keys.touchKeys(nil, sortedTouches(j.Touches), DimensionChannel))
	}
	c := newChain(keys.len())
	for i, j := range markovDataset(6) {
		if len(j.Conversions) > 0 {
			c.addPath(paths[i], stateConversion)
		} else {
			c.addPath(paths[i], stateNull)
		}
	}
	if p := conversionProbability(c.transitions(), -1); math.Abs(p-2./3) > 1e-12 {
		t.Errorf("P(conversion) = %v, want 2/3", p)
	}
	got := c.removalEffects(keys.len())
	want := map[string]float64{email: 0.6, paid: 1}
	for k, w := range want {
		if re := got[keys.id(k)]; math.Abs(re-w) > 1e-12 {
			t.Errorf("RE(%s) = %v, want %v", k, re, w)
		}
	}
}

func TestDataDriven(t *testing.T) {
	// A loop: START→a→b→a→CONVERSION and START→b→NULL. Counts: START→a 1,
	// START→b 1; a→b 1, a→CONV 1; b→a 1, b→NULL 1. With p(a) = ½·p(b) + ½
	// and p(b) = ½·p(a): p(a) = ⅔, p(b) = ⅓, P = ½·⅔ + ½·⅓ = ½.
	// Without a: p(b) = 0, P = 0, RE(a) = 1. Without b: p(a) = ½, P = ¼,
	// RE(b) = ½. The sale's touches a, b, a: a's share ⅔ split over its two
	// touches, b ⅓; the sale of 90 gives a 60, b 30.
	loop := []Journey{
		journey(one(90), ch("a", -3), ch("b", -2), ch("a", -1)),
		{Touches: []Touch{ch("b", -1)}},
	}
	tests := []struct {
		name     string
		model    Model
		journeys []Journey
		want     map[string]row
	}{
		{"removal effects", DataDriven{}, markovDataset(6), map[string]row{email: {2.25, 225}, paid: {7.75, 775}}},
		// Five email→paid sales and four paid-only: 9 converting paths, under
		// the default 10, so linear: email 5·½ = 2.5; paid 5·½ + 4 = 6.5.
		{"too few converting paths: linear", DataDriven{}, markovDataset(5), map[string]row{email: {2.5, 250}, paid: {6.5, 650}}},
		// Lowering the threshold to 9 runs the chain on that data:
		// START→email 10, START→paid 4; email→paid 5, email→NULL 5; paid→CONV 9.
		// P = 10/14·½ + 4/14 = 9/14; without email 4/14: RE = 5/9; without paid RE = 1.
		// Split 5/9 : 1 = 5/14 : 9/14; email 5·5/14 = 25/14 sales, 2500/14 = 178.57;
		// paid 5·9/14 + 4 = 101/14 sales, 4500/14 + 400 = 721.43.
		{"threshold lowered", DataDriven{MinConvertingPaths: 9}, markovDataset(5), map[string]row{
			email: {25. / 14, 178.57}, paid: {101. / 14, 4500./14 + 400}}},
		// One channel only: nothing to compare, linear (all to paid).
		{"one distinct value: linear", DataDriven{MinConvertingPaths: 1}, repeat(12, journey(one(10), ch(paid, -1))),
			map[string]row{paid: {12, 120}}},
		{"loop", DataDriven{MinConvertingPaths: 1}, loop, map[string]row{"a": {2. / 3, 60}, "b": {1. / 3, 30}}},
		// A sale without touches stays whole under (direct) and is no path.
		{"no touch", DataDriven{}, append(markovDataset(6), Journey{Conversions: one(40)}),
			map[string]row{email: {2.25, 225}, paid: {7.75, 775}, NoTouchKey: {1, 40}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.model.Attribute(tc.journeys, DimensionChannel, Window7Days)
			if err != nil {
				t.Fatal(err)
			}
			assertCredits(t, got, tc.want)
		})
	}
}

func TestUnconverted(t *testing.T) {
	// Touches after the last sale are the unconverted path, within one
	// window ending at the newest: email(−20) is before the sale, paid(−10)
	// falls outside (−7, 0] of search(0).
	j := journey([]Conversion{conv(5, -15)}, ch(search, 0), ch(email, -20), ch(paid, -10), ch(social, -2))
	var got []string
	for _, tc := range unconverted(sortedTouches(j.Touches), j.Conversions, Window7Days) {
		got = append(got, tc.Channel)
	}
	if want := []string{social, search}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestChainCounting checks that the map the chain counts in when there are
// too many keys for a matrix gives the matrix's transitions.
func TestChainCounting(t *testing.T) {
	js := randomJourneys(rand.New(rand.NewPCG(7, 8)), 500)
	keys := newKeyTable()
	var paths [][]int32
	for _, j := range js {
		paths = append(paths, keys.touchKeys(nil, sortedTouches(j.Touches), DimensionCampaign))
	}
	dense, sparse := newChainCounting(keys.len(), true), newChainCounting(keys.len(), false)
	for i, p := range paths {
		end := int32(stateNull)
		if len(js[i].Conversions) > 0 {
			end = stateConversion
		}
		dense.addPath(p, end)
		sparse.addPath(p, end)
	}
	if d, s := dense.transitions(), sparse.transitions(); !reflect.DeepEqual(d, s) {
		t.Errorf("matrix counts %v\nmap counts %v", d, s)
	}
}
