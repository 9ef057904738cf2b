package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
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

// stitchFixture is a day of site shop whose visitors sign in:
//
//	V1  09:00 s1 paid_search (anonymous), 11:00 s2 direct, signs in as U1
//	    at 11:05, buys for 80 at 11:10
//	V2  12:00 s3 email, U1 on another device, signed in from the start
//	V3  13:00 s4 referral, signs in as U2 at 13:05; 14:00 s5 direct, signs
//	    in as U3 at 14:05, who buys for 20 at 14:10 (a shared device)
//	V4  15:00 s6 direct, never signs in
//	V6  15:30 s7 social; at 16:00 in s8 two events at the same instant,
//	    the first (by seq) as U4, the second as U5
//	V5  20:00 s9 email; signs in as U6 the next day at 01:00 (s10)
//	V7  21:00 s11 referral, as U6 from the start
func stitchFixture() []event.Event {
	ev := func(id, visitor, session, user string, at time.Duration, channel, source string) event.Event {
		e := analyticsEvent("shop", id, visit{visitor: visitor, session: session, url: "https://shop.example.com/", utmSource: source, channel: channel}, at, event.TypePageview, "pageview", nil)
		e.UserID = user
		return e
	}
	buy := func(e event.Event, v float64) event.Event {
		e.Type, e.Name, e.Value = event.TypeConversion, "purchase", amount(v)
		return e
	}
	return []event.Event{
		ev("v1a", "V1", "s1", "", hm(9, 0), event.ChannelPaidSearch, "google"),
		ev("v1b", "V1", "s2", "", hm(11, 0), event.ChannelDirect, ""),
		ev("v1c", "V1", "s2", "U1", hm(11, 5), event.ChannelDirect, ""),
		buy(ev("v1d", "V1", "s2", "U1", hm(11, 10), event.ChannelDirect, ""), 80),
		ev("v2a", "V2", "s3", "U1", hm(12, 0), event.ChannelEmail, "newsletter"),
		ev("v3a", "V3", "s4", "", hm(13, 0), event.ChannelReferral, "blog"),
		ev("v3b", "V3", "s4", "U2", hm(13, 5), event.ChannelReferral, "blog"),
		ev("v3c", "V3", "s5", "", hm(14, 0), event.ChannelDirect, ""),
		ev("v3d", "V3", "s5", "U3", hm(14, 5), event.ChannelDirect, ""),
		buy(ev("v3e", "V3", "s5", "U3", hm(14, 10), event.ChannelDirect, ""), 20),
		ev("v4a", "V4", "s6", "", hm(15, 0), event.ChannelDirect, ""),
		ev("v6a", "V6", "s7", "", hm(15, 30), event.ChannelOrganicSocial, "social"),
		ev("v6b", "V6", "s8", "U4", hm(16, 0), event.ChannelDirect, ""),
		ev("v6c", "V6", "s8", "U5", hm(16, 0), event.ChannelDirect, ""),
		ev("v5a", "V5", "s9", "", hm(20, 0), event.ChannelEmail, "digest"),
		ev("v5b", "V5", "s10", "U6", hm(25, 0), event.ChannelDirect, ""),
		ev("v7a", "V7", "s11", "U6", hm(21, 0), event.ChannelReferral, "blog"),
	}
}

// testTouchStitching checks that attribution's people stitch a visitor's
// events without a user id to the user it first signed in as within the
// range, and nothing else: a user's own events stay theirs on a shared
// device, and a sign-in after the range changes nothing in it. The store
// holds stitchFixture.
func testTouchStitching(t *testing.T, s store.Store) {
	t.Helper()
	day := store.Query{Site: "shop", From: analyticsDay, To: analyticsDay.Add(24 * time.Hour)}
	want := []string{
		"p0 9h0m0s touch=true conv=false 0 paid_search google ", // V1, before signing in as U1
		"p0 11h0m0s touch=true conv=false 0 direct (direct) ",
		"p0 11h10m0s touch=false conv=true 80 direct (direct) ",
		"p0 12h0m0s touch=true conv=false 0 email newsletter ", // U1 on V2
		"p1 13h0m0s touch=true conv=false 0 referral blog ",    // V3 is U2, its first user
		"p1 14h0m0s touch=true conv=false 0 direct (direct) ",
		"p2 14h10m0s touch=false conv=true 20 direct (direct) ", // U3's own
		"p3 15h0m0s touch=true conv=false 0 direct (direct) ",   // V4
		"p4 15h30m0s touch=true conv=false 0 organic_social social ",
		"p4 16h0m0s touch=true conv=false 0 direct (direct) ", // U4, first by seq
		"p5 20h0m0s touch=true conv=false 0 email digest ",    // V5 signs in after the day
		"p6 21h0m0s touch=true conv=false 0 referral blog ",   // U6, not V5 yet
	}
	checkTouchLines(t, s, day, want)
	// Over two days, V5 is U6.
	two := day
	two.To = day.To.Add(24 * time.Hour)
	checkTouchLines(t, s, two, append(want[:len(want)-2:len(want)-2],
		"p5 20h0m0s touch=true conv=false 0 email digest ",
		"p5 21h0m0s touch=true conv=false 0 referral blog ",
		"p5 25h0m0s touch=true conv=false 0 direct (direct) ",
	))
}

func checkTouchLines(t *testing.T, s store.Store, q store.Query, want []string) {
	t.Helper()
	got, err := s.(store.Journeys).Touches(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if lines := touchLines(got, q.From); strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("touchpoints of %v to %v:\n%s\nwant:\n%s", q.From, q.To, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got.People != peopleIn(want) {
		t.Errorf("People %d, want %d", got.People, peopleIn(want))
	}
}

// peopleIn counts the distinct people of touch lines.
func peopleIn(lines []string) int {
	seen := map[string]bool{}
	for _, l := range lines {
		seen[strings.Fields(l)[0]] = true
	}
	return len(seen)
}
