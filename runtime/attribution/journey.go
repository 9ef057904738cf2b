package attribution

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// Touch is one touchpoint of a journey.
type Touch struct {
	At       time.Time
	Channel  string
	Source   string
	Campaign string
}

// Conversion is one conversion of a journey. Value is its revenue, at least
// zero and at most event.MaxAbsValue; refunds are not conversions.
type Conversion struct {
	At    time.Time
	Value float64
}

// Journey is one visitor's touches and conversions, in any order.
type Journey struct {
	Touches     []Touch
	Conversions []Conversion
}

// Keys credited when there is nothing better to credit.
const (
	// NoTouchKey gets a conversion that had no touch in its window.
	NoTouchKey = "(direct)"
	// NoneKey gets the credit of a touch whose value in the dimension is empty.
	NoneKey = "(none)"
)

// Dimension is what credit is grouped by.
type Dimension string

// Dimensions.
const (
	DimensionChannel  Dimension = "channel"
	DimensionSource   Dimension = "source"
	DimensionCampaign Dimension = "campaign"
)

// Valid reports whether d is a known dimension.
func (d Dimension) Valid() bool {
	switch d {
	case DimensionChannel, DimensionSource, DimensionCampaign:
		return true
	}
	return false
}

// Key is the touch's value in the dimension, NoneKey when empty.
func (d Dimension) Key(t Touch) string {
	var v string
	switch d {
	case DimensionChannel:
		v = t.Channel
	case DimensionSource:
		v = t.Source
	case DimensionCampaign:
		v = t.Campaign
	}
	if v == "" {
		return NoneKey
	}
	return v
}

// Window is the lookback from each conversion, in days.
type Window int

// Windows.
const (
	Window1Day   Window = 1
	Window7Days  Window = 7
	Window30Days Window = 30
	Window90Days Window = 90
)

// Valid reports whether w is one of the offered windows.
func (w Window) Valid() bool {
	switch w {
	case Window1Day, Window7Days, Window30Days, Window90Days:
		return true
	}
	return false
}

// Duration is the window's length.
func (w Window) Duration() time.Duration { return time.Duration(w) * 24 * time.Hour }

// Errors for bad arguments.
var (
	ErrDimension       = errors.New("attribution: dimension must be channel, source or campaign")
	ErrWindow          = errors.New("attribution: window must be 1, 7, 30 or 90 days")
	ErrValue           = errors.New("attribution: conversion value must be finite, at least 0 and at most event.MaxAbsValue")
	ErrRevenueTooLarge = errors.New("attribution: total revenue exceeds 2^53 cents")
)

// maxCents is the largest total float64 counts in cents exactly.
const maxCents = 1 << 53

func checkArgs(dim Dimension, w Window) error {
	if !dim.Valid() {
		return fmt.Errorf("%w: %q", ErrDimension, dim)
	}
	if !w.Valid() {
		return fmt.Errorf("%w: %d", ErrWindow, w)
	}
	return nil
}

func checkValue(v float64) error {
	if math.IsNaN(v) || v < 0 || v > event.MaxAbsValue {
		return fmt.Errorf("%w: %v", ErrValue, v)
	}
	return nil
}

// compareTouches orders touches by time, then channel, source and
// campaign, so equal times give the same order whatever the input.
func compareTouches(a, b Touch) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := strings.Compare(a.Channel, b.Channel); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return strings.Compare(a.Campaign, b.Campaign)
}

// sortedTouches is ts in compareTouches order: ts itself when it already
// is (callers only read it; the store gives touches oldest first), else a
// sorted copy, so the caller's slice is never reordered.
func sortedTouches(ts []Touch) []Touch {
	if isSorted(ts) {
		return ts
	}
	out := slices.Clone(ts)
	slices.SortFunc(out, compareTouches)
	return out
}

// isSorted reports whether ts is in compareTouches order. Most neighbours
// differ in time, which settles them without comparing strings.
func isSorted(ts []Touch) bool {
	for i := 1; i < len(ts); i++ {
		if ts[i-1].At.Before(ts[i].At) {
			continue
		}
		if compareTouches(ts[i-1], ts[i]) > 0 {
			return false
		}
	}
	return true
}

// inWindow is the part of sorted touches at times in (at−w, at].
func inWindow(sorted []Touch, at time.Time, w Window) []Touch {
	hi := firstAfter(sorted, at)
	return sorted[firstAfter(sorted[:hi], at.Add(-w.Duration())):hi]
}

// lastWindow is the part of sorted touches in one window ending at the
// newest of them (at least one).
func lastWindow(sorted []Touch, w Window) []Touch {
	return sorted[firstAfter(sorted, sorted[len(sorted)-1].At.Add(-w.Duration())):]
}

// scanLimit is the length up to which firstAfter scans rather than
// bisects: journeys are short, and their touches mostly fall in the window.
const scanLimit = 8

// firstAfter is the index of the first of sorted touches after x,
// len(sorted) when none is.
func firstAfter(sorted []Touch, x time.Time) int {
	if len(sorted) <= scanLimit {
		i := 0
		for i < len(sorted) && !sorted[i].At.After(x) {
			i++
		}
		return i
	}
	lo, hi := 0, len(sorted)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if sorted[mid].At.After(x) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// attributable is one conversion, its value in cents and the touches in its
// window, oldest first.
type attributable struct {
	cents   int64
	at      time.Time
	touches []Touch
}

// walk checks the arguments and goes through the journeys in order: visit
// gets every conversion with its window's touches; tail, unless nil, gets
// every journey's sorted touches and conversions after its conversions
// were visited. It stops at the first bad value, or when the revenue
// exceeds what float64 counts exactly. Without tail, journeys without
// conversions are skipped unsorted: only DataDriven needs their touches.
func walk(journeys []Journey, dim Dimension, w Window, visit func(attributable), tail func(sorted []Touch, convs []Conversion)) error {
	if err := checkArgs(dim, w); err != nil {
		return err
	}
	var total int64
	for ji := range journeys {
		j := &journeys[ji]
		if len(j.Conversions) == 0 && tail == nil {
			continue
		}
		sorted := sortedTouches(j.Touches)
		for ci, c := range j.Conversions {
			if err := checkValue(c.Value); err != nil {
				return fmt.Errorf("journey %d, conversion %d: %w", ji, ci, err)
			}
			cents := int64(math.Round(c.Value * 100))
			if total += cents; total > maxCents {
				return ErrRevenueTooLarge
			}
			visit(attributable{cents: cents, at: c.At, touches: inWindow(sorted, c.At, w)})
		}
		if tail != nil {
			tail(sorted, j.Conversions)
		}
	}
	return nil
}
