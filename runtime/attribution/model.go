package attribution

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// Model attributes the conversions of a set of journeys.
type Model interface {
	// Name is the model's stable identifier, as the dashboard shows it.
	Name() string
	// Attribute credits every conversion of journeys to keys of dim, each
	// from the touches in its window before it.
	Attribute(journeys []Journey, dim Dimension, window Window) ([]Credit, error)
}

// weigher writes into w the share of each touch (oldest first, at least
// one, as many as w holds) in a conversion at time at; the shares add up
// to 1. w comes zeroed.
type weigher func(w []float64, touches []Touch, at time.Time)

// ruleModel is a model that looks at one conversion's touches at a time.
type ruleModel struct {
	name  string
	weigh weigher
}

func (m ruleModel) Name() string { return m.name }

func (m ruleModel) Attribute(journeys []Journey, dim Dimension, window Window) ([]Credit, error) {
	t := newTally(newKeyTable())
	var keys []int32
	var w []float64
	err := walk(journeys, dim, window, func(a attributable) {
		keys = t.keys.touchKeys(keys[:0], a.touches, dim)
		w = weigh(w, m.weigh, a.touches, a.at)
		t.shares(a.cents, keys, w)
	}, nil)
	if err != nil {
		return nil, err
	}
	return t.rows(), nil
}

// weigh is the weights of touches by f, in buf's memory when it is large
// enough; none when there are no touches.
func weigh(buf []float64, f weigher, touches []Touch, at time.Time) []float64 {
	buf = slices.Grow(buf[:0], len(touches))[:len(touches)]
	if len(touches) > 0 {
		clear(buf)
		f(buf, touches, at)
	}
	return buf
}

// Rule-based models.
var (
	FirstTouch    Model = ruleModel{"first_touch", firstTouch}
	LastTouch     Model = ruleModel{"last_touch", lastTouch}
	LastNonDirect Model = ruleModel{"last_non_direct", lastNonDirect}
	Linear        Model = ruleModel{"linear", linear}
	PositionBased Model = ruleModel{"position_based", positionBased}
)

func firstTouch(w []float64, _ []Touch, _ time.Time) { w[0] = 1 }

func lastTouch(w []float64, _ []Touch, _ time.Time) { w[len(w)-1] = 1 }

func lastNonDirect(w []float64, ts []Touch, _ time.Time) {
	for i := len(ts) - 1; i >= 0; i-- {
		if !isDirect(ts[i]) {
			w[i] = 1
			return
		}
	}
	w[len(ts)-1] = 1
}

// isDirect reports whether a touch came with no known source; an empty
// channel is as good as direct.
func isDirect(t Touch) bool { return t.Channel == "" || t.Channel == event.ChannelDirect }

func linear(w []float64, _ []Touch, _ time.Time) {
	for i := range w {
		w[i] = 1 / float64(len(w))
	}
}

func positionBased(w []float64, _ []Touch, _ time.Time) {
	n := len(w)
	switch n {
	case 1:
		w[0] = 1
	case 2:
		w[0], w[1] = 0.5, 0.5
	default:
		w[0], w[n-1] = 0.4, 0.4
		for i := 1; i < n-1; i++ {
			w[i] = 0.2 / float64(n-2)
		}
	}
}

// DefaultHalfLife is TimeDecay's half-life when none is set.
const DefaultHalfLife = 7 * 24 * time.Hour

// TimeDecay gives recent touches more credit: a touch Δt before the
// conversion weighs 2^(−Δt/HalfLife), and the weights are normalized.
type TimeDecay struct {
	// HalfLife is how long before a conversion a touch's weight halves;
	// zero means DefaultHalfLife, negative is an error.
	HalfLife time.Duration
}

func (TimeDecay) Name() string { return "time_decay" }

func (m TimeDecay) Attribute(journeys []Journey, dim Dimension, window Window) ([]Credit, error) {
	if m.HalfLife < 0 {
		return nil, fmt.Errorf("attribution: time-decay half-life must not be negative, got %s", m.HalfLife)
	}
	half := m.HalfLife
	if half == 0 {
		half = DefaultHalfLife
	}
	return ruleModel{m.Name(), decay(half)}.Attribute(journeys, dim, window)
}

// decay weighs touches by 2^(−Δt/half). Exponents are taken relative to
// the newest touch so that long windows with short half-lives cannot
// underflow every weight to zero.
func decay(half time.Duration) weigher {
	return func(w []float64, ts []Touch, at time.Time) {
		newest := float64(at.Sub(ts[len(ts)-1].At)) / float64(half)
		var sum float64
		for i, t := range ts {
			w[i] = math.Exp2(-(float64(at.Sub(t.At))/float64(half) - newest))
			sum += w[i]
		}
		for i := range w {
			w[i] /= sum
		}
	}
}

// Models is every model with its defaults, in the order the dashboard
// offers them.
func Models() []Model {
	return []Model{FirstTouch, LastTouch, LastNonDirect, Linear, TimeDecay{}, PositionBased, DataDriven{}}
}

// ByName is the model with its defaults whose Name is name.
func ByName(name string) (Model, error) {
	for _, m := range Models() {
		if m.Name() == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("attribution: unknown model %q", name)
}
