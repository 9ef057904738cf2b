package forward

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/event"
)

// Mapping decides which events a destination takes and under which name.
type Mapping struct {
	rules []rule
	// consent lists the purposes an event must have granted.
	consent []string
}

type rule struct {
	match    string // an event name, or "*" for every conversion
	sendAs   string
	minValue float64
	hasMin   bool
}

// NewMapping builds a destination's mapping from its events list, or from
// defaults (the platform's default names) when the list is empty, and the
// consent purposes it requires.
func NewMapping(events []v1alpha1.EventMapping, defaults map[string]string, consent []string) (*Mapping, error) {
	m := &Mapping{consent: consent}
	if len(events) == 0 {
		for name, as := range defaults {
			m.rules = append(m.rules, rule{match: name, sendAs: as})
		}
		return m, nil
	}
	for i, e := range events {
		r := rule{match: strings.TrimSpace(e.Match), sendAs: strings.TrimSpace(e.SendAs)}
		if r.match == "" || r.sendAs == "" {
			return nil, fmt.Errorf("events[%d]: match and sendAs are required", i)
		}
		if e.MinValue != "" {
			v, err := strconv.ParseFloat(e.MinValue, 64)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("events[%d].minValue %q is not a non-negative number", i, e.MinValue)
			}
			r.minValue, r.hasMin = v, true
		}
		m.rules = append(m.rules, r)
	}
	return m, nil
}

// Empty reports whether the mapping can never take an event (a platform
// without defaults and a destination without events).
func (m *Mapping) Empty() bool { return len(m.rules) == 0 }

// SendAs returns the platform name for e, and whether the destination takes
// it at all. The first rule that matches wins, so a specific rule listed
// before "*" overrides it.
func (m *Mapping) SendAs(e *event.Event) (string, bool) {
	for _, r := range m.rules {
		if r.matches(e) {
			return r.sendAs, true
		}
	}
	return "", false
}

func (r rule) matches(e *event.Event) bool {
	if r.match == "*" {
		if e.Type != event.TypeConversion {
			return false
		}
	} else if r.match != e.Name {
		return false
	}
	if r.hasMin && (e.Value == nil || *e.Value < r.minValue) {
		return false
	}
	return true
}

// ConsentMissing returns why e may not be sent ("" when it may): the first
// required purpose that is not granted.
func (m *Mapping) ConsentMissing(e *event.Event) string {
	for _, p := range m.consent {
		switch v := e.Consent.Purpose(p); v {
		case event.Granted:
			continue
		case "":
			return "consent " + p + " not signalled"
		default:
			return "consent " + p + " " + v
		}
	}
	return ""
}
