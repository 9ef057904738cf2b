package dashboard

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/attribution"
	"github.com/trackstack/trackstack/runtime/store"
)

// randomTouchSet is n points oldest first, as the store returns them, of
// about n/4 people numbered in order of first appearance: session starts,
// conversions (refunds and ones outside [from, to) included) and
// conversions that start a session.
func randomTouchSet(r *rand.Rand, n int, from, to time.Time) *store.TouchSet {
	set := &store.TouchSet{Values: []string{"", "direct", "email", "paid_search", "src0", "src1", "spring"}}
	span := to.Sub(from)
	at := from.Add(-span)
	for range n {
		at = at.Add(time.Duration(r.Int64N(int64(3 * span / time.Duration(n+1)))))
		person := int32(r.IntN(n/4 + 1))
		if int(person) >= set.People {
			person = int32(set.People)
			set.People++
		}
		p := store.TouchPoint{At: at.UnixMicro(), Person: person,
			Channel: int32(r.IntN(4)), Source: int32(4 + r.IntN(2)), Campaign: int32([]int{0, 6}[r.IntN(2)])}
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
		set.Points = append(set.Points, p)
	}
	return set
}

// journeysByAppend is the plain way: a journey per person, grown point by
// point. journeysOf must give the same.
func journeysByAppend(set *store.TouchSet, from, to time.Time) []attribution.Journey {
	out := make([]attribution.Journey, set.People)
	for _, p := range set.Points {
		j := &out[p.Person]
		if p.Touch {
			j.Touches = append(j.Touches, attribution.Touch{At: p.Time(), Channel: set.Values[p.Channel], Source: set.Values[p.Source], Campaign: set.Values[p.Campaign]})
		}
		if p.Conversion && p.Value >= 0 && !p.Time().Before(from) && p.Time().Before(to) {
			j.Conversions = append(j.Conversions, attribution.Conversion{At: p.Time(), Value: p.Value})
		}
	}
	return out
}

// TestJourneysOf checks that grouping a TouchSet into journeys keeps every
// touch and every conversion of the range (not refunds, not conversions
// outside it) with its person, in time order, and no more: the people with
// a conversion as journeys, the others as the Unconverted, when asked for.
func TestJourneysOf(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 30)
	r := rand.New(rand.NewPCG(5, 8))
	for _, n := range []int{0, 1, 7, 100, 5000} {
		set := randomTouchSet(r, n, from, to)
		var converting, rest []attribution.Journey
		for _, j := range journeysByAppend(set, from, to) {
			if len(j.Conversions) > 0 {
				converting = append(converting, j)
			} else {
				rest = append(rest, j)
			}
		}
		got, u := journeysOf(set, from, to, true)
		if len(got)+len(converting) > 0 && !reflect.DeepEqual(got, converting) {
			t.Errorf("%d points: journeysOf's journeys differ from those with a conversion grouped point by point", n)
		}
		if u == nil || len(rest)+u.Len() > 0 && !reflect.DeepEqual(u.Journeys(), rest) {
			t.Errorf("%d points: journeysOf's unconverted journeys differ from those grouped point by point", n)
		}
		got, u = journeysOf(set, from, to, false)
		if len(got)+len(converting) > 0 && !reflect.DeepEqual(got, converting) {
			t.Errorf("%d points: journeysOf without unconverted journeys differs from those with a conversion", n)
		}
		if u != nil {
			t.Errorf("%d points: journeysOf gave unconverted journeys unasked", n)
		}
	}
}
