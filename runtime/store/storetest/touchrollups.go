package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// testTouchesRolled checks that Touches read through rollups give what
// the same events give raw: two stores get the same random events, one
// rolled up at several points as they arrive (so that sessions span the
// rolled boundary, late events make rolled hours stale, and some
// sessions get events in earlier hours than their rolled ones), the
// other never; then deletions refreshed in the rolled one, and user ids
// cleared by retention. Many ranges, with whole and partial hours, are
// compared point for point.
func testTouchesRolled(t *testing.T, fresh func(t *testing.T) (store.Store, DeleteEvents)) {
	rolled, delRolled := fresh(t)
	raw, delRaw := fresh(t)
	r := rand.New(rand.NewPCG(7, 11))
	start := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	events := randomSessions(r, start, 400)
	// Every fourth event of hours 30 to 34 arrives after the first
	// roll-up, late, in rolled hours; and eight sessions of the second day
	// get an event two hours before their first, stored late as an import
	// would: then the session's rolled row is not its first in range.
	var early, late []event.Event
	for i, e := range events {
		if h := e.ReceivedAt.Sub(start); i%4 == 1 && h >= 30*time.Hour && h < 34*time.Hour {
			late = append(late, e)
		} else {
			early = append(early, e)
		}
	}
	firsts := map[string]bool{}
	for _, e := range early {
		if e.SessionID != "" && !firsts[e.SessionID] && e.ReceivedAt.Sub(start) > 20*time.Hour && len(firsts) < 8 {
			firsts[e.SessionID] = true
			before := e
			before.EventID, before.ReceivedAt, before.Timestamp = "before-"+e.EventID, e.ReceivedAt.Add(-2*time.Hour), e.Timestamp.Add(-2*time.Hour)
			late = append(late, before)
		}
	}
	for _, s := range []store.Store{rolled, raw} {
		mustInsert(t, s, early, len(early))
	}
	rollUp(t, rolled, start.Add(40*time.Hour), events...)
	compareTouches(t, r, rolled, raw, start, "rolled to 40h")
	for _, s := range []store.Store{rolled, raw} {
		mustInsert(t, s, late, len(late))
	}
	compareTouches(t, r, rolled, raw, start, "late events pending")
	rollUp(t, rolled, start.Add(60*time.Hour), events...)
	compareTouches(t, r, rolled, raw, start, "rolled to 60h")
	// The whole range then reads its 60 rolled hours from rollups (the
	// comparisons would also pass if every read fell back to raw events).
	all, err := rolled.(store.Journeys).Touches(context.Background(), store.Query{Site: "shop", From: start, To: start.Add(80 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if all.RolledHours != 60 {
		t.Errorf("the whole range read %d hours from rollups, want 60", all.RolledHours)
	}

	var gone []string
	var received []time.Time
	for i := 0; i < len(events); i += 9 {
		gone, received = append(gone, events[i].EventID), append(received, events[i].ReceivedAt)
	}
	delRolled(t, "shop", gone...)
	delRaw(t, "shop", gone...)
	for _, at := range received {
		if err := rolled.(store.Rollups).RefreshRollups(context.Background(), "shop", at, at.Add(time.Microsecond)); err != nil {
			t.Fatal(err)
		}
	}
	compareTouches(t, r, rolled, raw, start, "after deletions")

	// Retention clears the user ids of the first 30 hours: those events'
	// people become their visitors, in the rollups too.
	for _, s := range []store.Store{rolled, raw} {
		plan := store.RetentionPlan{Site: "shop", ClearPIIBefore: start.Add(30 * time.Hour), Duty: 1}
		if _, err := s.(store.Retention).ApplyRetention(context.Background(), plan); err != nil {
			t.Fatal(err)
		}
	}
	compareTouches(t, r, rolled, raw, start, "after clearing user ids")
}

// randomSessions makes sessions over three days from start: visitors come
// back, some sign in (their events then carry a user id), some sessions
// run over hours or pause for hours, some events have no session or no
// visitor, and some are conversions. Events are in received order.
func randomSessions(r *rand.Rand, start time.Time, sessions int) []event.Event {
	var out []event.Event
	for s := range sessions {
		visitor := "v" + strconv.Itoa(r.IntN(sessions/3))
		user := ""
		if r.IntN(4) == 0 {
			user = "u" + strconv.Itoa(r.IntN(sessions/6))
		}
		at := start.Add(time.Duration(r.Int64N(int64(72 * time.Hour))))
		a := arrivals[r.IntN(len(arrivals))]
		for k := range 1 + r.IntN(5) {
			e := Realistic("shop", len(out), at)
			e.EventID = fmt.Sprintf("t%d-%d", s, k)
			e.SessionID, e.VisitorID, e.UTM, e.Referrer, e.Channel = "s"+strconv.Itoa(s), visitor, a.utm, a.referrer, a.channel
			switch r.IntN(12) {
			case 0:
				e.SessionID = ""
			case 1:
				e.VisitorID = ""
			}
			if user != "" && k > 0 {
				e.UserID = user
			}
			if r.IntN(5) == 0 {
				v := float64(r.IntN(20000)) / 100
				e.Type, e.Name, e.Value = event.TypeConversion, "purchase", &v
			}
			out = append(out, e)
			gap := time.Duration(r.Int64N(int64(20 * time.Minute)))
			if r.IntN(6) == 0 {
				gap = time.Duration(r.Int64N(int64(5 * time.Hour)))
			}
			at = at.Add(gap)
		}
	}
	// In received order, as ingest stores them, seqs then follow time.
	sortByReceived(out)
	return out
}

func sortByReceived(events []event.Event) {
	for i := 1; i < len(events); i++ {
		for j := i; j > 0 && events[j].ReceivedAt.Before(events[j-1].ReceivedAt); j-- {
			events[j], events[j-1] = events[j-1], events[j]
		}
	}
}

// compareTouches compares Touches of both stores over the whole data,
// whole days, and random ranges of whole and partial hours.
func compareTouches(t *testing.T, r *rand.Rand, rolled, raw store.Store, start time.Time, when string) {
	t.Helper()
	ranges := [][2]time.Time{{start.Add(-time.Hour), start.Add(80 * time.Hour)}, {start, start.Add(24 * time.Hour)}, {start.Add(24 * time.Hour), start.Add(48 * time.Hour)}}
	for range 25 {
		from := start.Add(time.Duration(r.Int64N(int64(70 * time.Hour))))
		if r.IntN(2) == 0 {
			from = from.Truncate(time.Hour)
		}
		to := from.Add(time.Duration(1 + r.Int64N(int64(30*time.Hour))))
		ranges = append(ranges, [2]time.Time{from, to})
	}
	for _, rg := range ranges {
		q := store.Query{Site: "shop", From: rg[0], To: rg[1]}
		got, err := rolled.(store.Journeys).Touches(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := raw.(store.Journeys).Touches(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		g, w := strings.Join(touchLines(got, start), "\n"), strings.Join(touchLines(want, start), "\n")
		if g != w {
			t.Fatalf("%s: Touches %v to %v: rolled and raw differ:\n%s", when, rg[0].Sub(start), rg[1].Sub(start), lineDiff(g, w))
		}
		if want.RolledHours != 0 {
			t.Fatalf("the raw store read %d hours from rollups", want.RolledHours)
		}
		if got.People != want.People || len(got.Values) != len(want.Values) {
			t.Fatalf("%s: Touches %v to %v: %d people, %d values; raw %d, %d", when, rg[0].Sub(start), rg[1].Sub(start), got.People, len(got.Values), want.People, len(want.Values))
		}
	}
}

// lineDiff shows the first differing line of two texts.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d (of %d, raw %d):\n  rolled %q\n  raw    %q", i+1, len(g), len(w), a, b)
		}
	}
	return "(same lines)"
}
