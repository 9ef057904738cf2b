package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// testTouchpoints checks what attribution reads on the analytics fixture:
// each session's first event as a touch, every conversion (refunds too,
// with their negative value), in time order, and nothing of site other or
// outside the day. People are numbered in order of first appearance: A is
// p0, B p1 and C p2.
func testTouchpoints(t *testing.T, s store.Store, day store.Query) {
	j, ok := s.(store.Journeys)
	if !ok {
		t.Fatalf("%T does not implement store.Journeys", s)
	}
	got, err := j.Touches(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	lines := touchLines(got, day.From)
	want := []string{
		"p0 10h0m0s touch=true conv=false 0 paid_search google spring",      // a1, first of S1
		"p0 10h5m0s touch=false conv=true 100 paid_search google spring",    // a3
		"p1 11h0m0s touch=true conv=false 0 direct (direct) ",               // b1, first of S3
		"p1 11h10m0s touch=false conv=true 0 direct (direct) ",              // b4, a signup without value
		"p2 12h0m0s touch=true conv=false 0 email newsletter spring",        // c1, first of S4
		"p2 12h20m0s touch=false conv=true 50 email newsletter spring",      // c2
		"p2 12h30m0s touch=false conv=true -30 email newsletter spring",     // c3, the refund
		"p2 13h0m0s touch=true conv=false 0 email (direct) ",                // c4, a session of its own
		"p0 14h0m0s touch=true conv=false 0 referral news.ycombinator.com ", // a4, first of S2
		"p1 15h0m0s touch=true conv=false 0 direct (direct) ",               // b5, a session of its own
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("touchpoints:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// touchLines renders a TouchSet one point per line, times from start.
func touchLines(set *store.TouchSet, start time.Time) []string {
	var lines []string
	for _, p := range set.Points {
		lines = append(lines, fmt.Sprintf("p%d %s touch=%t conv=%t %g %s %s %s", p.Person, p.Time().Sub(start).Round(time.Minute),
			p.Touch, p.Conversion, p.Value, set.Values[p.Channel], set.Values[p.Source], set.Values[p.Campaign]))
	}
	return lines
}
