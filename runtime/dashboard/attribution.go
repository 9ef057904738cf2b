package dashboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
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
	journeys, unconverted, err := a.journeys(ctx, p.q, w, attribution.UsesUnconverted(m))
	if err != nil {
		return nil, nil, err
	}
	credits, err := attribution.AttributeAll(m, journeys, unconverted, d, w)
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
// values) are not conversions. The people without a conversion come
// compactly in the second result, and only with unconverted.
func (a *API) journeys(ctx context.Context, q store.Query, w attribution.Window, unconverted bool) ([]attribution.Journey, *attribution.Unconverted, error) {
	js, ok := a.Store.(store.Journeys)
	if !ok {
		return nil, nil, errors.New("the store cannot read journeys")
	}
	wide := q
	wide.From = q.From.Add(-w.Duration())
	set, err := js.Touches(ctx, wide)
	if err != nil {
		return nil, nil, err
	}
	journeys, u := journeysOf(set, q.From, q.To, unconverted)
	return journeys, u, nil
}

// journeysOf groups a TouchSet's points by person, people in order of
// first appearance, each journey's touches and conversions in time order.
// The conversions are those in [from, to) that are not refunds. The people
// with such a conversion become journeys; with unconverted, the others
// become the compact Unconverted (nil without), as a busy site has
// hundreds of thousands of them. Journeys share two backing arrays.
func journeysOf(set *store.TouchSet, from, to time.Time, unconverted bool) ([]attribution.Journey, *attribution.Unconverted) {
	lo, hi := from.UnixMicro(), to.UnixMicro()
	isConversion := func(p store.TouchPoint) bool {
		return p.Conversion && p.Value >= 0 && p.At >= lo && p.At < hi
	}
	convs, touches := make([]int32, set.People), make([]int32, set.People)
	for _, p := range set.Points {
		if isConversion(p) {
			convs[p.Person]++
		}
	}
	// slot is a converting person's journey index + 1, an unconverted
	// one's index in u − 1 (negative) when asked for, and 0 for a person
	// left out, whose touches then cost nothing.
	slot := make([]int32, set.People)
	kept, paths := 0, 0
	for person := range set.People {
		switch {
		case convs[person] > 0:
			kept++
			slot[person] = int32(kept)
		case unconverted:
			paths++
			slot[person] = -int32(paths)
		}
	}
	for _, p := range set.Points {
		if p.Touch && slot[p.Person] != 0 {
			touches[p.Person]++
		}
	}
	out := cutJourneys(slot, touches, convs, kept)
	var u *attribution.Unconverted
	// next is where each unconverted person's next step goes.
	var next []int
	if unconverted {
		u, next = cutUnconverted(set.Values, slot, touches, paths)
	}
	// Filling is bound by memory latency (each person's touches are spread
	// over the range): two goroutines each take half of the people, and
	// each writes only its own people's parts of the arrays.
	fill := func(first, last int32) {
		for _, p := range set.Points {
			s := slot[p.Person]
			if s == 0 || p.Person < first || p.Person >= last {
				continue
			}
			if s < 0 {
				if p.Touch {
					u.Steps[next[-s-1]] = attribution.Step{At: p.At, Channel: p.Channel, Source: p.Source, Campaign: p.Campaign}
					next[-s-1]++
				}
				continue
			}
			j := &out[s-1]
			if p.Touch {
				j.Touches = append(j.Touches, attribution.Touch{At: p.Time(), Channel: set.Values[p.Channel], Source: set.Values[p.Source], Campaign: set.Values[p.Campaign]})
			}
			if isConversion(p) {
				j.Conversions = append(j.Conversions, attribution.Conversion{At: p.Time(), Value: p.Value})
			}
		}
	}
	var wg sync.WaitGroup
	half := int32(set.People / 2)
	wg.Go(func() { fill(0, half) })
	fill(half, int32(set.People))
	wg.Wait()
	return out, u
}

// cutJourneys makes the converting people's journeys (slot > 0), empty,
// each with room for its touches and conversions cut from two shared
// arrays.
func cutJourneys(slot, touches, convs []int32, kept int) []attribution.Journey {
	var nt, nc int
	for person, s := range slot {
		if s > 0 {
			nt, nc = nt+int(touches[person]), nc+int(convs[person])
		}
	}
	allTouches, allConvs := make([]attribution.Touch, 0, nt), make([]attribution.Conversion, 0, nc)
	out := make([]attribution.Journey, kept)
	for person, s := range slot {
		if s <= 0 {
			continue
		}
		j := &out[s-1]
		if t := int(touches[person]); t > 0 {
			j.Touches = allTouches[len(allTouches) : len(allTouches) : len(allTouches)+t]
			allTouches = allTouches[:len(allTouches)+t]
		}
		c := int(convs[person])
		j.Conversions = allConvs[len(allConvs) : len(allConvs) : len(allConvs)+c]
		allConvs = allConvs[:len(allConvs)+c]
	}
	return out
}

// cutUnconverted makes room for the unconverted people's (slot < 0)
// steps, and returns where each one's first step goes.
func cutUnconverted(values []string, slot, touches []int32, paths int) (*attribution.Unconverted, []int) {
	u := &attribution.Unconverted{Values: values, Starts: make([]int, paths+1)}
	for person, s := range slot {
		if s < 0 {
			u.Starts[-s] = int(touches[person])
		}
	}
	for i := 1; i <= paths; i++ {
		u.Starts[i] += u.Starts[i-1]
	}
	u.Steps = make([]attribution.Step, u.Starts[paths])
	return u, slices.Clone(u.Starts[:paths])
}

// attributionTables are the attribution page: every model side by side,
// conversions in one table and revenue in another, one row per key.
func (a *API) attributionTables(ctx context.Context, p params) ([]table, error) {
	_, w, d, err := attributionParams(p)
	if err != nil {
		return nil, err
	}
	journeys, unconverted, err := a.journeys(ctx, p.q, w, true)
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
		credits, err := attribution.AttributeAll(m, journeys, unconverted, d, w)
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
