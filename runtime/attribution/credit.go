package attribution

import (
	"cmp"
	"math"
	"slices"
	"strings"
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
// Each key's amounts are summed in the order the credit comes, so the
// result is the same to the bit whatever the key numbers.
type tally struct {
	keys       *keyTable
	noTouch    int32
	nanos      []float64 // by key number
	cents      []float64 // by key number
	credited   []bool    // by key number: whether the key has a row
	totalNanos int64
	totalCents int64
}

func newTally(keys *keyTable) *tally {
	return &tally{keys: keys, noTouch: keys.id(NoTouchKey)}
}

// credit gives key the share (0..1) of a conversion worth cents.
func (t *tally) credit(key int32, share float64, cents int64) {
	if n := t.keys.len(); int(key) >= len(t.nanos) {
		t.nanos = append(t.nanos, make([]float64, n-len(t.nanos))...)
		t.cents = append(t.cents, make([]float64, n-len(t.cents))...)
		t.credited = append(t.credited, make([]bool, n-len(t.credited))...)
	}
	t.nanos[key] += share * nanosPerConversion
	t.cents[key] += share * float64(cents)
	t.credited[key] = true
}

// shares counts a conversion worth cents and credits each of its touches'
// keys with the touch's weight; with no touch, NoTouchKey gets it whole.
func (t *tally) shares(cents int64, keys []int32, weights []float64) {
	t.totalNanos += nanosPerConversion
	t.totalCents += cents
	if len(keys) == 0 {
		t.credit(t.noTouch, 1, cents)
		return
	}
	for i, w := range weights {
		if w != 0 {
			t.credit(keys[i], w, cents)
		}
	}
}

// rows apportions the totals exactly and returns the non-zero rows, most
// credited first.
func (t *tally) rows() []Credit {
	var ids []int32
	for id, ok := range t.credited {
		if ok {
			ids = append(ids, int32(id))
		}
	}
	slices.SortFunc(ids, func(a, b int32) int { return strings.Compare(t.keys.names[a], t.keys.names[b]) })
	nanos, cents := make([]float64, len(ids)), make([]float64, len(ids))
	for i, id := range ids {
		nanos[i], cents[i] = t.nanos[id], t.cents[id]
	}
	wholeNanos := apportion(nanos, t.totalNanos)
	wholeCents := apportion(cents, t.totalCents)
	var out []Credit
	for i, id := range ids {
		if wholeNanos[i] == 0 && wholeCents[i] == 0 {
			continue
		}
		out = append(out, Credit{
			Key:         t.keys.names[id],
			Conversions: float64(wholeNanos[i]) / nanosPerConversion,
			Revenue:     float64(wholeCents[i]) / 100,
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

// apportion turns real amounts, one per key in key order, into integers
// that add up to total exactly: the floor of each, then the remaining units
// one each to the keys with the largest fractional parts (ties by key
// order). Float sums can leave a residue beyond one unit per key or below
// zero; it goes round the keys in the same order until spent, never taking
// a key below zero.
func apportion(amounts []float64, total int64) []int64 {
	out := make([]int64, len(amounts))
	if len(amounts) == 0 {
		return out
	}
	frac := make([]float64, len(amounts))
	var sum int64
	for i, a := range amounts {
		a = max(a, 0)
		f := math.Floor(a)
		out[i], frac[i] = int64(f), a-f
		sum += out[i]
	}
	order := make([]int, len(amounts))
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
