package dashboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/attribution"
	"github.com/trackstack/trackstack/runtime/store"
)

// Attribution is the attribution report: each key's share of the range's
// conversions and revenue under one model.
type Attribution struct {
	Model   string               `json:"model"`
	Window  string               `json:"window"`
	By      string               `json:"by"`
	Credits []attribution.Credit `json:"credits"`
}

// Attribution's parameter values.
var (
	attributionWindows = map[string]attribution.Window{"": 30, "1d": 1, "7d": 7, "30d": 30, "90d": 90}
	attributionDims    = map[string]attribution.Dimension{"": "channel", "channel": "channel", "source": "source", "campaign": "campaign"}
)

// attributionParams reads model (default last_non_direct), window (1d, 7d,
// 30d or 90d; default 30d) and by (channel, source or campaign).
func attributionParams(p params) (attribution.Model, attribution.Window, attribution.Dimension, error) {
	name := p.model
	if name == "" {
		name = "last_non_direct"
	}
	m, err := attribution.ByName(name)
	if err != nil {
		return nil, 0, "", badParam(fmt.Errorf("model %q: %w", p.model, err))
	}
	w, ok := attributionWindows[p.window]
	if !ok {
		return nil, 0, "", badParam(fmt.Errorf("window %q is not 1d, 7d, 30d or 90d", p.window))
	}
	d, ok := attributionDims[p.by]
	if !ok {
		return nil, 0, "", badParam(fmt.Errorf("by %q is not channel, source or campaign", p.by))
	}
	return m, w, d, nil
}

func (a *API) attribution(ctx context.Context, p params) (any, [][]string, error) {
	m, w, d, err := attributionParams(p)
	if err != nil {
		return nil, nil, err
	}
	journeys, err := a.journeys(ctx, p.q, w)
	if err != nil {
		return nil, nil, err
	}
	credits, err := m.Attribute(journeys, d, w)
	if err != nil {
		return nil, nil, err
	}
	if credits == nil {
		credits = []attribution.Credit{}
	}
	table := [][]string{{string(d), "conversions", "revenue"}}
	for _, c := range credits {
		table = append(table, []string{c.Key, ftoa(c.Conversions), ftoa(cents(c.Revenue))})
	}
	return Attribution{Model: m.Name(), Window: fmt.Sprintf("%dd", w), By: string(d), Credits: credits}, table, nil
}

// journeys builds each person's journey: the touches from the window
// before the range on, and the conversions in the range. Refunds (negative
// values) are not conversions.
func (a *API) journeys(ctx context.Context, q store.Query, w attribution.Window) ([]attribution.Journey, error) {
	js, ok := a.Store.(store.Journeys)
	if !ok {
		return nil, errors.New("the store cannot read journeys")
	}
	wide := q
	wide.From = q.From.Add(-w.Duration())
	points, err := js.Touchpoints(ctx, wide)
	if err != nil {
		return nil, err
	}
	return buildJourneys(points, q.From, q.To), nil
}

// buildJourneys groups touchpoints (oldest first) into one journey per
// person, people in order of who they are, each journey's touches and
// conversions in the touchpoints' order; conversions count only in
// [from, to) and refunds (negative values) never. A first pass counts
// each person's touches and conversions, so that every journey is carved
// from two shared arrays laid out in output order: a few allocations
// instead of several per person, and memory the models read in sequence.
func buildJourneys(points []store.Touchpoint, from, to time.Time) []attribution.Journey {
	counted := func(t *store.Touchpoint) bool {
		return t.Conversion && t.Value >= 0 && !t.At.Before(from) && t.At.Before(to)
	}
	// By person, numbered in order of first touchpoint.
	type person struct {
		who string
		p   int32
	}
	index := map[string]int32{}
	var people []person
	var touches, convs []int32 // counts, then where the next one goes
	personOf := make([]int32, len(points))
	for i := range points {
		t := &points[i]
		p, ok := index[t.Who]
		if !ok {
			p = int32(len(people))
			index[t.Who] = p
			people = append(people, person{t.Who, p})
			touches, convs = append(touches, 0), append(convs, 0)
		}
		personOf[i] = p
		if t.Touch {
			touches[p]++
		}
		if counted(t) {
			convs[p]++
		}
	}
	slices.SortFunc(people, func(a, b person) int { return strings.Compare(a.who, b.who) })
	out := make([]attribution.Journey, len(people))
	// Counts become where each person's touches and conversions start.
	var touchEnd, convEnd int32
	for _, pp := range people {
		touches[pp.p], touchEnd = touchEnd, touchEnd+touches[pp.p]
		convs[pp.p], convEnd = convEnd, convEnd+convs[pp.p]
	}
	touchArray, convArray := make([]attribution.Touch, touchEnd), make([]attribution.Conversion, convEnd)
	var values interner
	for i := range points {
		t := &points[i]
		p := personOf[i]
		if t.Touch {
			touchArray[touches[p]] = attribution.Touch{
				At: t.At, Channel: values.intern(t.Channel), Source: values.intern(t.Source), Campaign: values.intern(t.Campaign),
			}
			touches[p]++
		}
		if counted(t) {
			convArray[convs[p]] = attribution.Conversion{At: t.At, Value: t.Value}
			convs[p]++
		}
	}
	// Each person's next positions are now the ends of their touches and
	// conversions; the starts are the ends of the person before.
	var touchStart, convStart int32
	for r, pp := range people {
		p := pp.p
		if end := touches[p]; end > touchStart {
			out[r].Touches = touchArray[touchStart:end:end]
			touchStart = end
		}
		if end := convs[p]; end > convStart {
			out[r].Conversions = convArray[convStart:end:end]
			convStart = end
		}
	}
	return out
}

// interner keeps one copy of each channel, source and campaign, so that
// the journeys hold a few dozen strings rather than three per touch (the
// touchpoints' can then be collected) and the models compare keys that
// share memory. A small cache indexed by length and end bytes answers
// most lookups without hashing.
type interner struct {
	recent [64]string
	all    map[string]string
}

func (in *interner) intern(s string) string {
	if s == "" {
		return ""
	}
	slot := &in.recent[(uint(len(s))*31+uint(s[0])*7+uint(s[len(s)-1]))%uint(len(in.recent))]
	if *slot == s {
		return *slot
	}
	if in.all == nil {
		in.all = map[string]string{}
	}
	v, ok := in.all[s]
	if !ok {
		v = s
		in.all[s] = v
	}
	*slot = v
	return v
}

// attributionTables are the attribution page: every model side by side,
// conversions in one table and revenue in another, one row per key.
func (a *API) attributionTables(ctx context.Context, p params) ([]table, error) {
	_, w, d, err := attributionParams(p)
	if err != nil {
		return nil, err
	}
	journeys, err := a.journeys(ctx, p.q, w)
	if err != nil {
		return nil, err
	}
	models := attribution.Models()
	conv := map[string][]string{}
	rev := map[string][]string{}
	var keys []string
	head := []string{string(d)}
	for i, m := range models {
		head = append(head, m.Name())
		credits, err := m.Attribute(journeys, d, w)
		if err != nil {
			return nil, err
		}
		for _, c := range credits {
			if _, ok := conv[c.Key]; !ok {
				keys = append(keys, c.Key)
				conv[c.Key] = make([]string, len(models))
				rev[c.Key] = make([]string, len(models))
			}
			conv[c.Key][i] = ftoa(float64(int64(c.Conversions*100+0.5)) / 100)
			rev[c.Key][i] = ftoa(cents(c.Revenue))
		}
	}
	sort.Strings(keys)
	convRows, revRows := make([][]string, 0, len(keys)), make([][]string, 0, len(keys))
	for _, k := range keys {
		convRows = append(convRows, append([]string{k}, zeros(conv[k])...))
		revRows = append(revRows, append([]string{k}, zeros(rev[k])...))
	}
	return []table{
		{ID: "attribution-conversions", Title: fmt.Sprintf("Conversions by %s, %dd window", d, w), Head: head, Rows: convRows},
		{ID: "attribution-revenue", Title: fmt.Sprintf("Revenue by %s, %dd window", d, w), Head: head, Rows: revRows},
	}, nil
}

// zeros fills the models that gave a key nothing with 0.
func zeros(cells []string) []string {
	for i, c := range cells {
		if c == "" {
			cells[i] = "0"
		}
	}
	return cells
}
