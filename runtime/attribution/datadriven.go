package attribution

import (
	"math"
	"slices"
	"time"
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
	minPaths := m.MinConvertingPaths
	if minPaths <= 0 {
		minPaths = DefaultMinConvertingPaths
	}
	keys := newKeyTable()
	p := newPaths(journeys)
	var convs []attributable
	err := walk(journeys, dim, window, func(a attributable) {
		convs = append(convs, a)
		p.converting = keys.touchKeys(p.converting, a.touches, dim)
	}, func(sorted []Touch, cs []Conversion) {
		if ts := unconverted(sorted, cs, window); len(ts) > 0 {
			p.null = keys.touchKeys(p.null, ts, dim)
			p.nullEnds = append(p.nullEnds, len(p.null))
		}
	})
	if err != nil {
		return nil, err
	}
	c, converting := p.chain(convs)
	t := newTally(keys)
	chained := converting >= minPaths && c.keyStates() >= 2
	var effects []float64
	var count []int32
	if chained {
		effects, count = c.removalEffects(keys.len()), make([]int32, keys.len())
	}
	var w []float64
	convKeys := p.converting
	for _, a := range convs {
		ks := convKeys[:len(a.touches)]
		convKeys = convKeys[len(a.touches):]
		if chained {
			w = effectWeights(w, ks, effects, count)
		} else {
			w = weigh(w, linear, a.touches, a.at)
		}
		t.shares(a.cents, ks, w)
	}
	return t.rows(), nil
}

// effectWeights shares a conversion among its touches (their key numbers
// given) by the removal effects of their keys, a key's share split among
// its touches; linear when no key has an effect. It writes into buf when
// large enough; count is scratch, zero on entry and exit, by key number.
func effectWeights(buf []float64, keys []int32, effects []float64, count []int32) []float64 {
	w := slices.Grow(buf[:0], len(keys))[:len(keys)]
	if len(keys) == 0 {
		return w
	}
	var sum float64 // summed in touch order, so the result is reproducible to the bit
	for _, k := range keys {
		if count[k] == 0 {
			sum += effects[k]
		}
		count[k]++
	}
	if sum <= 0 {
		linear(w, nil, time.Time{})
	} else {
		for i, k := range keys {
			w[i] = effects[k] / sum / float64(count[k])
		}
	}
	for _, k := range keys {
		count[k] = 0
	}
	return w
}

// paths are the key numbers of the chain's paths, gathered in one pass
// over the journeys so that each journey's touches are read once.
type paths struct {
	converting []int32 // of every conversion's touches, one after the other
	null       []int32 // of the unconverted paths, one after the other
	nullEnds   []int   // where each unconverted path ends in null
}

// newPaths has room for the unconverted paths of journeys: at most one
// per journey, of at most its touches.
func newPaths(journeys []Journey) *paths {
	touches := 0
	for i := range journeys {
		touches += len(journeys[i].Touches)
	}
	return &paths{null: make([]int32, 0, touches), nullEnds: make([]int, 0, len(journeys))}
}

// chain counts the converting paths, in conversion order, then the
// unconverted ones, in journey order: states are numbered in the order
// keys first appear, and the probabilities are summed in state order. It
// returns the chain and the number of converting paths.
func (p *paths) chain(convs []attributable) (*chain, int) {
	c := newChain()
	converting := 0
	rest := p.converting
	for _, a := range convs {
		if n := len(a.touches); n > 0 {
			c.addPath(rest[:n], stateConversion)
			rest = rest[n:]
			converting++
		}
	}
	from := 0
	for _, end := range p.nullEnds {
		c.addPath(p.null[from:end], stateNull)
		from = end
	}
	return c, converting
}

// unconverted is the trailing part of a journey's sorted touches that led
// to none of its conversions, within one window ending at the newest.
func unconverted(sorted []Touch, convs []Conversion, window Window) []Touch {
	if len(convs) > 0 {
		last := convs[0].At
		for _, c := range convs[1:] {
			if c.At.After(last) {
				last = c.At
			}
		}
		sorted = sorted[firstAfter(sorted, last):]
	}
	if len(sorted) == 0 {
		return nil
	}
	return inWindow(sorted, sorted[len(sorted)-1].At, window)
}

// The fixed states of the chain; keys follow.
const (
	stateStart = iota
	stateConversion
	stateNull
	firstKeyState
)

// indexedDegree is the number of transitions out of one state beyond which
// count finds them through a map rather than by scanning.
const indexedDegree = 32

// chain counts transitions between states. A key's state is numbered in
// the order keys first appear on paths, which fixes the order the
// probabilities are summed in.
type chain struct {
	stateOf []int32       // by key number; 0 (START, never a key's) when not in the chain yet
	keyOf   []int32       // by state: its key number, for states from firstKeyState
	out     [][]edgeCount // by state: transitions counted from it
	index   []map[int32]int32
}

// edgeCount is a transition and how often it was taken.
type edgeCount struct {
	to int32
	n  int
}

func newChain() *chain {
	return &chain{
		keyOf: make([]int32, firstKeyState),
		out:   make([][]edgeCount, firstKeyState),
		index: make([]map[int32]int32, firstKeyState),
	}
}

// keyStates is the number of keys in the chain.
func (c *chain) keyStates() int { return len(c.out) - firstKeyState }

func (c *chain) state(key int32) int32 {
	if int(key) >= len(c.stateOf) {
		c.stateOf = append(c.stateOf, make([]int32, int(key)+1-len(c.stateOf))...)
	}
	s := c.stateOf[key]
	if s == stateStart {
		s = int32(len(c.out))
		c.stateOf[key] = s
		c.keyOf = append(c.keyOf, key)
		c.out = append(c.out, nil)
		c.index = append(c.index, nil)
	}
	return s
}

// addPath counts the path START → keys → end, repeats of a key in a row
// collapsed into one state.
func (c *chain) addPath(keys []int32, end int32) {
	from := int32(stateStart)
	for i, k := range keys {
		if i > 0 && keys[i-1] == k {
			continue
		}
		to := c.state(k)
		c.count(from, to)
		from = to
	}
	c.count(from, end)
}

func (c *chain) count(from, to int32) {
	es := c.out[from]
	if m := c.index[from]; m != nil {
		if i, ok := m[to]; ok {
			es[i].n++
			return
		}
		m[to] = int32(len(es))
	} else {
		for i := range es {
			if es[i].to == to {
				es[i].n++
				return
			}
		}
		if len(es) == indexedDegree {
			c.indexEdges(from)
			c.index[from][to] = int32(len(es))
		}
	}
	c.out[from] = append(es, edgeCount{to, 1})
}

// indexEdges maps the transitions out of from to their places in c.out.
func (c *chain) indexEdges(from int32) {
	m := make(map[int32]int32, 2*len(c.out[from]))
	for i, e := range c.out[from] {
		m[e.to] = int32(i)
	}
	c.index[from] = m
}

// edge is a transition with its probability.
type edge struct {
	to int
	p  float64
}

// transitions turns the counts into probabilities per state.
func (c *chain) transitions() [][]edge {
	out := make([][]edge, len(c.out))
	for s, es := range c.out {
		var n int
		for _, e := range es {
			n += e.n
		}
		out[s] = make([]edge, 0, len(es))
		for _, e := range es {
			out[s] = append(out[s], edge{int(e.to), float64(e.n) / float64(n)})
		}
		// Sorted edges sum the same way whatever order they were met in.
		slices.SortFunc(out[s], func(a, b edge) int { return a.to - b.to })
	}
	return out
}

// removalEffects is RE(k) by key number, for numKeys keys; zero for keys
// not in the chain.
func (c *chain) removalEffects(numKeys int) []float64 {
	tr := c.transitions()
	base := conversionProbability(tr, -1)
	out := make([]float64, numKeys)
	if base <= 0 {
		return out
	}
	for s := firstKeyState; s < len(c.out); s++ {
		out[c.keyOf[s]] = max(0, (base-conversionProbability(tr, s))/base)
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
