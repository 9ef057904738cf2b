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
// outside the day.
func testTouchpoints(t *testing.T, s store.Store, day store.Query) {
	j, ok := s.(store.Journeys)
	if !ok {
		t.Fatalf("%T does not implement store.Journeys", s)
	}
	got, err := j.Touchpoints(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range got {
		lines = append(lines, fmt.Sprintf("%s %s touch=%t conv=%t %g %s %s %s", p.Who, p.At.Sub(day.From).Round(time.Minute),
			p.Touch, p.Conversion, p.Value, p.Channel, p.Source, p.Campaign))
	}
	want := []string{
		"A 10h0m0s touch=true conv=false 0 paid_search google spring",      // a1, first of S1
		"A 10h5m0s touch=false conv=true 100 paid_search google spring",    // a3
		"B 11h0m0s touch=true conv=false 0 direct (direct) ",               // b1, first of S3
		"B 11h10m0s touch=false conv=true 0 direct (direct) ",              // b4, a signup without value
		"C 12h0m0s touch=true conv=false 0 email newsletter spring",        // c1, first of S4
		"C 12h20m0s touch=false conv=true 50 email newsletter spring",      // c2
		"C 12h30m0s touch=false conv=true -30 email newsletter spring",     // c3, the refund
		"C 13h0m0s touch=true conv=false 0 email (direct) ",                // c4, a session of its own
		"A 14h0m0s touch=true conv=false 0 referral news.ycombinator.com ", // a4, first of S2
		"B 15h0m0s touch=true conv=false 0 direct (direct) ",               // b5, a session of its own
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("touchpoints:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
