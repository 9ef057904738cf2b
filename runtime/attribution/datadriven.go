package attribution

import (
	"math"
	"slices"
)

// DefaultMinConvertingPaths is DataDriven's MinConvertingPaths when unset.
const DefaultMinConvertingPaths = 10

// DataDriven shares each conversion by removal effects in a first-order
// Markov chain built from the journeys given.
//
// Paths: every conversion with at least one touch in its window is a path
// START → its touches' keys → CONVERSION. Every journey's touches after its
// last conversion (all of them if it has none), restricted to one window
// ending at the newest of them, are a path START → keys → NULL. Repeats of
// a key in a row are collapsed into one state: a self-loop does not change
// where a chain ends up. Conversions without touches are left out of the
// chain (they go to NoTouchKey whatever the model).
//
// Removal effect of a key k: with P the probability of reaching CONVERSION
// from START and P₋ₖ the same with k's state turned into NULL,
// RE(k) = (P − P₋ₖ)/P. Each conversion is shared among the keys present in
// its own path in proportion to their removal effects (normalized over
// those keys; a key's share is split equally among its touches), so a key
// never earns credit for a conversion it took no part in.
//
// Fallback: with fewer than MinConvertingPaths converting paths, or fewer
// than two distinct keys in the chain, removal effects mean nothing and the
// model gives Linear's answer.
type DataDriven struct {
	// MinConvertingPaths is the number of converting paths below which the
	// model falls back to linear; zero means DefaultMinConvertingPaths.
	MinConvertingPaths int
}

func (DataDriven) Name() string { return "data_driven" }

func (m DataDriven) Attribute(journeys []Journey, dim Dimension, window Window) ([]Credit, error) {
	convs, err := attributables(journeys, dim, window)
	if err != nil {
		return nil, err
	}
	minPaths := m.MinConvertingPaths
	if minPaths <= 0 {
		minPaths = DefaultMinConvertingPaths
	}
	c := newChain()
	converting := 0
	for _, a := range convs {
		if len(a.touches) > 0 {
			c.addPath(pathKeys(a.touches, dim), stateConversion)
			converting++
		}
	}
	for _, j := range journeys {
		if ts := unconverted(j, window); len(ts) > 0 {
			c.addPath(pathKeys(ts, dim), stateNull)
		}
	}
	t := newTally()
	if converting < minPaths || len(c.keys) < 2 {
		for _, a := range convs {
			var w []float64
			if len(a.touches) > 0 {
				w = linear(a.touches, a.at)
			}
			t.shares(a, dim, w)
		}
		return t.rows(), nil
	}
	effects := c.removalEffects()
	for _, a := range convs {
		t.shares(a, dim, effectWeights(a.touches, dim, effects))
	}
	return t.rows(), nil
}

// effectWeights shares a conversion among its touches by the removal effects
// of their keys, a key's share split among its touches; linear when no key
// has an effect.
func effectWeights(ts []Touch, dim Dimension, effects map[string]float64) []float64 {
	if len(ts) == 0 {
		return nil
	}
	count := map[string]int{}
	var sum float64 // summed in touch order, so the result is reproducible to the bit
	for _, t := range ts {
		k := dim.Key(t)
		if count[k] == 0 {
			sum += effects[k]
		}
		count[k]++
	}
	if sum <= 0 {
		return linear(ts, ts[0].At)
	}
	w := make([]float64, len(ts))
	for i, t := range ts {
		k := dim.Key(t)
		w[i] = effects[k] / sum / float64(count[k])
	}
	return w
}

// unconverted is the journey's trailing touches that led to no conversion,
// within one window ending at the newest of them.
func unconverted(j Journey, window Window) []Touch {
	sorted := sortedTouches(j.Touches)
	if len(j.Conversions) > 0 {
		last := j.Conversions[0].At
		for _, c := range j.Conversions[1:] {
			if c.At.After(last) {
				last = c.At
			}
		}
		i := 0
		for i < len(sorted) && !sorted[i].At.After(last) {
			i++
		}
		sorted = sorted[i:]
	}
	if len(sorted) == 0 {
		return nil
	}
	return inWindow(sorted, sorted[len(sorted)-1].At, window)
}

// pathKeys is the keys of touches with repeats in a row collapsed.
func pathKeys(ts []Touch, dim Dimension) []string {
	var out []string
	for _, t := range ts {
		k := dim.Key(t)
		if len(out) == 0 || out[len(out)-1] != k {
			out = append(out, k)
		}
	}
	return out
}

// The fixed states of the chain; keys follow.
const (
	stateStart = iota
	stateConversion
	stateNull
	firstKeyState
)

// chain counts transitions between states.
type chain struct {
	keys   map[string]int
	counts []map[int]int
}

func newChain() *chain {
	return &chain{keys: map[string]int{}, counts: make([]map[int]int, firstKeyState)}
}

func (c *chain) state(key string) int {
	s, ok := c.keys[key]
	if !ok {
		s = len(c.counts)
		c.keys[key] = s
		c.counts = append(c.counts, nil)
	}
	return s
}

func (c *chain) addPath(keys []string, end int) {
	from := stateStart
	for _, k := range keys {
		to := c.state(k)
		c.count(from, to)
		from = to
	}
	c.count(from, end)
}

func (c *chain) count(from, to int) {
	if c.counts[from] == nil {
		c.counts[from] = map[int]int{}
	}
	c.counts[from][to]++
}

// edge is a transition with its probability.
type edge struct {
	to int
	p  float64
}

// transitions turns the counts into probabilities per state.
func (c *chain) transitions() [][]edge {
	out := make([][]edge, len(c.counts))
	for s, m := range c.counts {
		var n int
		for _, k := range m {
			n += k
		}
		for to, k := range m {
			out[s] = append(out[s], edge{to, float64(k) / float64(n)})
		}
		// Map order is random; sorted edges sum the same way every run.
		slices.SortFunc(out[s], func(a, b edge) int { return a.to - b.to })
	}
	return out
}

// removalEffects is RE(k) for every key of the chain.
func (c *chain) removalEffects() map[string]float64 {
	tr := c.transitions()
	base := conversionProbability(tr, -1)
	out := make(map[string]float64, len(c.keys))
	for k, s := range c.keys {
		if base > 0 {
			out[k] = max(0, (base-conversionProbability(tr, s))/base)
		}
	}
	return out
}

// Convergence bounds of conversionProbability.
const (
	probabilityTolerance = 1e-13
	maxSweeps            = 100_000
)

// conversionProbability is the probability of reaching CONVERSION from
// START with state removed (−1: none) acting as NULL. It solves
// p(s) = Σ P(s→t)·p(t) by Gauss–Seidel sweeps from p = 0, which rise
// monotonically to the absorption probabilities: every state reached lies
// on an observed path that ends in CONVERSION or NULL, so the sweeps
// converge.
func conversionProbability(tr [][]edge, removed int) float64 {
	p := make([]float64, len(tr))
	p[stateConversion] = 1
	for range maxSweeps {
		var delta float64
		for s := len(tr) - 1; s >= 0; s-- {
			if s == stateConversion || s == stateNull || s == removed {
				continue
			}
			var v float64
			for _, e := range tr[s] {
				v += e.p * p[e.to]
			}
			delta = max(delta, math.Abs(v-p[s]))
			p[s] = v
		}
		if delta < probabilityTolerance {
			break
		}
	}
	return p[stateStart]
}
