package attribution

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Unconverted holds journeys without conversions in a compact form, for
// the models that read them (DataDriven). On a busy site they are most of
// the journeys, and a Touch per touchpoint, with its time and three
// strings, would be most of a report's memory; a Step is a third of that
// and holds no pointer for the garbage collector to follow.
//
// Journey i's touches are Steps[Starts[i]:Starts[i+1]], in any order, as a
// Journey's touches may be: len(Starts) is the number of journeys + 1,
// Starts[0] is 0 and the last is len(Steps).
type Unconverted struct {
	Values []string // the dimension values the steps index
	Steps  []Step
	Starts []int
}

// Step is one touch of an unconverted journey.
type Step struct {
	// At is the touch's time in microseconds since the Unix epoch.
	At int64
	// Channel, Source and Campaign index Unconverted.Values.
	Channel, Source, Campaign int32
}

// ErrUnconverted is returned for an Unconverted whose Starts or indexes do
// not fit its Steps and Values.
var ErrUnconverted = errors.New("attribution: malformed unconverted journeys")

// Len is the number of journeys u holds.
func (u *Unconverted) Len() int { return max(0, len(u.Starts)-1) }

// check reports whether u's journeys and indexes fit together.
func (u *Unconverted) check() error {
	if len(u.Starts) == 0 {
		if len(u.Steps) > 0 {
			return fmt.Errorf("%w: %d steps and no journey", ErrUnconverted, len(u.Steps))
		}
		return nil
	}
	if u.Starts[0] != 0 || u.Starts[len(u.Starts)-1] != len(u.Steps) {
		return fmt.Errorf("%w: Starts must run from 0 to len(Steps)", ErrUnconverted)
	}
	if !slices.IsSorted(u.Starts) {
		return fmt.Errorf("%w: Starts must not decrease", ErrUnconverted)
	}
	n := int32(len(u.Values))
	for i, s := range u.Steps {
		if min(s.Channel, s.Source, s.Campaign) < 0 || max(s.Channel, s.Source, s.Campaign) >= n {
			return fmt.Errorf("%w: step %d indexes a value out of %d", ErrUnconverted, i, n)
		}
	}
	return nil
}

// Journeys expands u into the journeys it stands for.
func (u *Unconverted) Journeys() []Journey {
	out := make([]Journey, u.Len())
	for i := range out {
		for _, s := range u.Steps[u.Starts[i]:u.Starts[i+1]] {
			out[i].Touches = append(out[i].Touches, u.touch(s))
		}
	}
	return out
}

func (u *Unconverted) touch(s Step) Touch {
	return Touch{At: time.UnixMicro(s.At).UTC(), Channel: u.Values[s.Channel], Source: u.Values[s.Source], Campaign: u.Values[s.Campaign]}
}

// compareSteps orders steps as compareTouches orders their touches.
func (u *Unconverted) compareSteps(a, b Step) int {
	if a.At != b.At {
		return compare(a.At, b.At)
	}
	if c := strings.Compare(u.Values[a.Channel], u.Values[b.Channel]); c != 0 {
		return c
	}
	if c := strings.Compare(u.Values[a.Source], u.Values[b.Source]); c != 0 {
		return c
	}
	return strings.Compare(u.Values[a.Campaign], u.Values[b.Campaign])
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sorted is steps in compareSteps order: steps itself when it already is,
// else a sorted copy in buf's memory, returned as the second value.
func (u *Unconverted) sorted(steps, buf []Step) ([]Step, []Step) {
	ordered := true
	for i := 1; i < len(steps) && ordered; i++ {
		ordered = steps[i-1].At < steps[i].At || u.compareSteps(steps[i-1], steps[i]) <= 0
	}
	if ordered {
		return steps, buf
	}
	buf = append(buf[:0], steps...)
	slices.SortFunc(buf, u.compareSteps)
	return buf, buf
}

// value is the index of a step's value in dim.
func (s Step) value(dim Dimension) int32 {
	switch dim {
	case DimensionSource:
		return s.Source
	case DimensionCampaign:
		return s.Campaign
	}
	return s.Channel
}

// appendPaths appends to dst the key numbers of each journey's path, as
// gatherPaths takes it from a journey without conversions: its touches in
// one window ending at the newest, each path followed by endOfPath.
func (u *Unconverted) appendPaths(dst []int32, dim Dimension, window Window, keys *keyTable) []int32 {
	ids := make([]int32, len(u.Values)) // a value's key number + 1, 0 until met
	w := window.Duration().Microseconds()
	var buf []Step
	for i := range u.Len() {
		steps := u.Steps[u.Starts[i]:u.Starts[i+1]]
		if len(steps) == 0 {
			continue
		}
		steps, buf = u.sorted(steps, buf)
		// The window is (newest−w, newest], as lastWindow's.
		oldest := steps[len(steps)-1].At - w
		steps = steps[sort.Search(len(steps), func(k int) bool { return steps[k].At > oldest }):]
		for _, s := range steps {
			v := s.value(dim)
			if ids[v] == 0 {
				ids[v] = keys.valueID(u.Values[v]) + 1
			}
			dst = append(dst, ids[v]-1)
		}
		dst = append(dst, endOfPath)
	}
	return dst
}

// UnconvertedReader is a model that reads journeys without conversions
// too (DataDriven, whose chain counts the paths that led nowhere). The
// other models credit the same, to the bit, without them.
type UnconvertedReader interface {
	Model
	// AttributeWith credits as Attribute does over journeys followed by
	// the journeys u holds, without building those.
	AttributeWith(journeys []Journey, u *Unconverted, dim Dimension, window Window) ([]Credit, error)
}

// UsesUnconverted reports whether m reads the journeys that have no
// conversion: leaving them out for every other model saves building
// hundreds of thousands of journeys on a busy site.
func UsesUnconverted(m Model) bool {
	_, ok := m.(UnconvertedReader)
	return ok
}

// AttributeAll credits journeys and the unconverted ones in u (nil: none)
// with m: u is read only by the models that use it.
func AttributeAll(m Model, journeys []Journey, u *Unconverted, dim Dimension, window Window) ([]Credit, error) {
	if r, ok := m.(UnconvertedReader); ok && u != nil {
		return r.AttributeWith(journeys, u, dim, window)
	}
	return m.Attribute(journeys, dim, window)
}
