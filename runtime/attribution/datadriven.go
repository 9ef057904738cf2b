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
	return m.AttributeWith(journeys, nil, dim, window)
}

// AttributeWith is Attribute over journeys followed by those u holds (nil:
// none); see UnconvertedReader.
func (m DataDriven) AttributeWith(journeys []Journey, u *Unconverted, dim Dimension, window Window) ([]Credit, error) {
	minPaths := m.MinConvertingPaths
	if minPaths <= 0 {
		minPaths = DefaultMinConvertingPaths
	}
	keys := newKeyTable()
	p, convs, err := gatherPaths(journeys, u, dim, window, keys)
	if err != nil {
		return nil, err
	}
	c, converting := p.chain(convs, keys.len())
	var effects []float64 // nil: linear
	if converting >= minPaths && c.keyStates() >= 2 {
		effects = c.removalEffects(keys.len())
	}
	return creditEffects(convs, p.converting, keys, effects), nil
}

// gatherPaths goes once through the journeys, then those u holds (nil:
// none), for their conversions and the key numbers of the chain's paths.
func gatherPaths(journeys []Journey, u *Unconverted, dim Dimension, window Window, keys *keyTable) (*paths, []attributable, error) {
	if u == nil {
		u = &Unconverted{}
	}
	if err := u.check(); err != nil {
		return nil, nil, err
	}
	p, convs := newPaths(journeys, u)
	err := walk(journeys, dim, window, func(a attributable) {
		convs = append(convs, a)
		p.converting = keys.touchKeys(p.converting, a.touches, dim)
	}, func(sorted []Touch, cs []Conversion) {
		if ts := unconverted(sorted, cs, window); len(ts) > 0 {
			p.null = append(keys.touchKeys(p.null, ts, dim), endOfPath)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	p.null = u.appendPaths(p.null, dim, window, keys)
	return p, convs, nil
}

// creditEffects credits each conversion by the removal effects of its
// touches' keys (numbered in convKeys, one conversion after the other), or
// linearly when effects is nil.
func creditEffects(convs []attributable, convKeys []int32, keys *keyTable, effects []float64) []Credit {
	t := newTally(keys)
	count := make([]int32, len(effects))
	var w []float64
	for _, a := range convs {
		ks := convKeys[:len(a.touches)]
		convKeys = convKeys[len(a.touches):]
		if effects != nil {
			w = effectWeights(w, ks, effects, count)
		} else {
			w = weigh(w, linear, a.touches, a.at)
		}
		t.shares(a.cents, ks, w)
	}
	return t.rows()
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
	null       []int32 // of the unconverted paths, each followed by endOfPath
}

// endOfPath ends each unconverted path in paths.null; key numbers are not
// negative.
const endOfPath = -1

// newPaths has room for the paths of journeys and u, and the conversions
// returned for their conversions: a conversion's path has at most its
// journey's touches, and there is at most one unconverted path per
// journey, of at most its touches and its end.
func newPaths(journeys []Journey, u *Unconverted) (*paths, []attributable) {
	var touches, convTouches, convs int
	for i := range journeys {
		n, c := len(journeys[i].Touches), len(journeys[i].Conversions)
		touches += n
		convTouches += n * c
		convs += c
	}
	return &paths{
		converting: make([]int32, 0, convTouches),
		null:       make([]int32, 0, touches+len(journeys)+len(u.Steps)+u.Len()),
	}, make([]attributable, 0, convs)
}

// chain counts the converting paths, in conversion order, then the
// unconverted ones, in journey order: states are numbered in the order
// keys first appear, and the probabilities are summed in state order. It
// returns the chain and the number of converting paths.
func (p *paths) chain(convs []attributable, numKeys int) (*chain, int) {
	c := newChain(numKeys)
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
	for i, k := range p.null {
		if k == endOfPath {
			c.addPath(p.null[from:i], stateNull)
			from = i + 1
		}
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
	return lastWindow(sorted, window)
}

// The fixed states of the chain; keys follow.
const (
	stateStart = iota
	stateConversion
	stateNull
	firstKeyState
)

// maxDenseStates is the number of states up to which the chain counts
// transitions in a matrix (8 MiB at most) rather than in a map.
const maxDenseStates = 1024

// chain counts transitions between states. A key's state is numbered in
// the order keys first appear on paths, which fixes the order the
// probabilities are summed in.
type chain struct {
	stateOf []int32 // by key number; 0 (START, never a key's) when not in the chain yet
	keyOf   []int32 // by state: its key number, for states from firstKeyState
	size    int     // the most states there can be
	dense   []int   // transitions from*size+to, when size is at most maxDenseStates
	sparse  map[[2]int32]int
}

// newChain has room for the fixed states and numKeys keys.
func newChain(numKeys int) *chain {
	size := firstKeyState + numKeys
	return newChainCounting(numKeys, size <= maxDenseStates)
}

// newChainCounting is newChain counting in a matrix or in a map.
func newChainCounting(numKeys int, dense bool) *chain {
	c := &chain{
		stateOf: make([]int32, numKeys),
		keyOf:   make([]int32, firstKeyState, firstKeyState+numKeys),
		size:    firstKeyState + numKeys,
	}
	if dense {
		c.dense = make([]int, c.size*c.size)
	} else {
		c.sparse = map[[2]int32]int{}
	}
	return c
}

// keyStates is the number of keys in the chain.
func (c *chain) keyStates() int { return len(c.keyOf) - firstKeyState }

func (c *chain) state(key int32) int32 {
	s := c.stateOf[key]
	if s == stateStart {
		s = int32(len(c.keyOf))
		c.stateOf[key] = s
		c.keyOf = append(c.keyOf, key)
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
	if c.dense != nil {
		c.dense[int(from)*c.size+int(to)]++
		return
	}
	c.sparse[[2]int32{from, to}]++
}

// edge is a transition with its probability.
type edge struct {
	to int
	p  float64
}

// edgeCount is a transition with the number of times it was taken.
type edgeCount struct {
	to, n int
}

// counts is the transitions out of each state, in order of the state they
// lead to.
func (c *chain) counts() [][]edgeCount {
	states := len(c.keyOf)
	out := make([][]edgeCount, states)
	if c.dense != nil {
		for from := range states {
			for to, n := range c.dense[from*c.size : from*c.size+states] {
				if n > 0 {
					out[from] = append(out[from], edgeCount{to, n})
				}
			}
		}
		return out
	}
	for k, n := range c.sparse {
		out[k[0]] = append(out[k[0]], edgeCount{int(k[1]), n})
	}
	for _, es := range out {
		slices.SortFunc(es, func(a, b edgeCount) int { return a.to - b.to })
	}
	return out
}

// transitions turns the counts into probabilities per state, edges in
// order of the state they lead to, so they sum the same way every run.
func (c *chain) transitions() [][]edge {
	counts := c.counts()
	out := make([][]edge, len(counts))
	for s, es := range counts {
		var n int
		for _, e := range es {
			n += e.n
		}
		out[s] = make([]edge, len(es))
		for i, e := range es {
			out[s][i] = edge{e.to, float64(e.n) / float64(n)}
		}
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
	for s := firstKeyState; s < len(c.keyOf); s++ {
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
