package attribution

import (
	"cmp"
	"math"
	"slices"
)

// Credit is what one key (a channel, source or campaign) earned.
type Credit struct {
	Key         string  `json:"key"`
	Conversions float64 `json:"conversions"`
	Revenue     float64 `json:"revenue"`
}

// nanosPerConversion is the unit conversions are apportioned in.
const nanosPerConversion = 1_000_000_000

// tally accumulates real-valued credit per key and turns it into exact rows.
type tally struct {
	nanos      map[string]float64
	cents      map[string]float64
	totalNanos int64
	totalCents int64
}

func newTally() *tally {
	return &tally{nanos: map[string]float64{}, cents: map[string]float64{}}
}

// conversion counts one conversion's totals; credit adds its shares.
func (t *tally) conversion(a attributable) {
	t.totalNanos += nanosPerConversion
	t.totalCents += a.cents
}

// credit gives key the share (0..1) of conversion a.
func (t *tally) credit(key string, share float64, a attributable) {
	t.nanos[key] += share * nanosPerConversion
	t.cents[key] += share * float64(a.cents)
}

// shares counts conversion a and credits each touch's key with its weight.
func (t *tally) shares(a attributable, dim Dimension, weights []float64) {
	t.conversion(a)
	if len(a.touches) == 0 {
		t.credit(NoTouchKey, 1, a)
		return
	}
	for i, w := range weights {
		if w != 0 {
			t.credit(dim.Key(a.touches[i]), w, a)
		}
	}
}

// rows apportions the totals exactly and returns the non-zero rows, most
// credited first.
func (t *tally) rows() []Credit {
	keys := make([]string, 0, len(t.nanos))
	for k := range t.nanos {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	nanos := apportion(keys, t.nanos, t.totalNanos)
	cents := apportion(keys, t.cents, t.totalCents)
	var out []Credit
	for i, k := range keys {
		if nanos[i] == 0 && cents[i] == 0 {
			continue
		}
		out = append(out, Credit{
			Key:         k,
			Conversions: float64(nanos[i]) / nanosPerConversion,
			Revenue:     float64(cents[i]) / 100,
		})
	}
	slices.SortFunc(out, func(a, b Credit) int {
		if c := cmp.Compare(b.Conversions, a.Conversions); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Revenue, a.Revenue); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

// apportion turns real amounts into integers that add up to total exactly:
// the floor of each, then the remaining units one each to the keys with the
// largest fractional parts (ties by key order). Float sums can leave a
// residue beyond one unit per key or below zero; it goes round the keys in
// the same order until spent, never taking a key below zero.
func apportion(keys []string, amounts map[string]float64, total int64) []int64 {
	out := make([]int64, len(keys))
	if len(keys) == 0 {
		return out
	}
	frac := make([]float64, len(keys))
	var sum int64
	for i, k := range keys {
		a := max(amounts[k], 0)
		f := math.Floor(a)
		out[i], frac[i] = int64(f), a-f
		sum += out[i]
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(frac[b], frac[a]) })
	spread(out, order, total-sum)
	return out
}

// spread adds residue (positive or negative) one unit at a time to out in
// order, cycling; negative units skip entries already at zero.
func spread(out []int64, order []int, residue int64) {
	for residue > 0 {
		for _, i := range order {
			if residue == 0 {
				break
			}
			out[i]++
			residue--
		}
	}
	for residue < 0 {
		for j := len(order) - 1; j >= 0 && residue < 0; j-- {
			if i := order[j]; out[i] > 0 {
				out[i]--
				residue++
			}
		}
	}
}
