package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// DeleteEvents deletes a site's events by id straight from the database,
// as retention and erasure do, without touching the rollups.
type DeleteEvents func(t *testing.T, site string, eventIDs ...string)

// RunRollups checks that Totals and Series read through rollups answer as
// the raw events do: the hand-computed cases of Run, with the fixtures
// rolled up wholly, partly, or with late events stored after the roll-up;
// and late events, superseding events, sessions across the rolled
// boundary and deletions followed by RefreshRollups. open returns a fresh,
// empty, migrated store and a way to delete its events.
func RunRollups(t *testing.T, open func(t *testing.T) (store.Store, DeleteEvents)) {
	fresh := func(t *testing.T) (store.Store, DeleteEvents) {
		t.Helper()
		s, del := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s, del
	}
	never := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name        string
		until       time.Time
		late, catch bool
	}{
		{"AllRolledUp", never, false, false},
		// The analytics day's sessions S3 and S4 are open, the series
		// fixture is not rolled up at all.
		{"RolledUpTo11h", analyticsDay.Add(11 * time.Hour), false, false},
		// The analytics day is rolled up; the series fixture up to
		// Oct 25 01:00 UTC, between e5 and e6 of session s3.
		{"RolledUpToOct25_01h", time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), false, false},
		{"LateEventsPending", never, true, false},
		{"LateEventsRolledUp", never, true, true},
		{"LateEventsPendingPartly", analyticsDay.Add(12 * time.Hour), true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rolled := func(t *testing.T) store.Store {
				s, _ := fresh(t)
				return newRolling(t, s, c.until, c.late, c.catch)
			}
			t.Run("Totals", func(t *testing.T) {
				s := rolled(t)
				mustInsert(t, s, analyticsFixture(), 28)
				testTotals(t, analyticsOf(t, s), store.Query{Site: "shop", From: analyticsDay, To: analyticsDay.Add(24 * time.Hour)})
			})
			t.Run("Series", func(t *testing.T) { runSeries(t, rolled) })
			t.Run("Touches", func(t *testing.T) {
				s, _ := fresh(t)
				mustInsert(t, newRolling(t, s, c.until, c.late, c.catch), analyticsFixture(), 28)
				testTouchpoints(t, s, store.Query{Site: "shop", From: analyticsDay, To: analyticsDay.Add(24 * time.Hour)})
			})
			t.Run("TouchesStitched", func(t *testing.T) {
				s, _ := fresh(t)
				mustInsert(t, newRolling(t, s, c.until, c.late, c.catch), stitchFixture(), 17)
				testTouchStitching(t, s)
			})
		})
	}
	t.Run("TouchesAsRaw", func(t *testing.T) { testTouchesRolled(t, fresh) })
	t.Run("LateEventInARolledHour", func(t *testing.T) { s, _ := fresh(t); testLateEvent(t, s) })
	t.Run("SupersedeInARolledHour", func(t *testing.T) { s, _ := fresh(t); testSupersedeRolled(t, s) })
	t.Run("SessionAcrossTheBoundary", func(t *testing.T) { s, _ := fresh(t); testAcrossBoundary(t, s) })
	t.Run("DeletionNeedsRefresh", func(t *testing.T) { testDeletion(t, fresh) })
	t.Run("RefreshBadInput", func(t *testing.T) { s, _ := fresh(t); testRefreshBadInput(t, s) })
	t.Run("RetentionAndErasure", func(t *testing.T) { s, _ := fresh(t); testRetentionRollups(t, s) })
}

// rolling is a store whose Insert rolls up the sites it stores events of
// to until: with late, it stores every other event of a batch only after
// rolling up, so those events are late; with catchUp, it rolls up again
// after them.
type rolling struct {
	store.Store
	store.Analytics
	t             *testing.T
	until         time.Time
	late, catchUp bool
}

func newRolling(t *testing.T, s store.Store, until time.Time, late, catchUp bool) *rolling {
	return &rolling{Store: s, Analytics: analyticsOf(t, s), t: t, until: until, late: late, catchUp: catchUp}
}

func (r *rolling) Insert(ctx context.Context, events []event.Event) (int, error) {
	first, rest := events, []event.Event(nil)
	if r.late {
		// Every other event, so that each site and hour may have some.
		first = nil
		for i, e := range events {
			if i%2 == 0 {
				first = append(first, e)
			} else {
				rest = append(rest, e)
			}
		}
	}
	n, err := r.Store.Insert(ctx, first)
	if err != nil {
		return n, err
	}
	rollUp(r.t, r.Store, r.until, events...)
	m, err := r.Store.Insert(ctx, rest)
	if err == nil && r.catchUp {
		rollUp(r.t, r.Store, r.until, events...)
	}
	return n + m, err
}

// rollUp rolls up the sites of events to until.
func rollUp(t *testing.T, s store.Store, until time.Time, events ...event.Event) {
	t.Helper()
	r, ok := s.(store.Roller)
	if !ok {
		t.Fatalf("%T does not implement store.Roller", s)
	}
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.Site] {
			continue
		}
		seen[e.Site] = true
		if err := r.RollUp(context.Background(), e.Site, until); err != nil {
			t.Fatalf("RollUp(%s, %v): %v", e.Site, until, err)
		}
	}
}

// assertTotals checks Totals of q.
func assertTotals(t *testing.T, s store.Store, q store.Query, want store.Totals) {
	t.Helper()
	got, err := analyticsOf(t, s).Totals(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Totals(%v to %v) = %+v\nwant %+v", q.From.Format(time.TimeOnly), q.To.Format(time.TimeOnly), got, want)
	}
}

func testLateEvent(t *testing.T, s store.Store) {
	mustInsert(t, s, analyticsFixture(), 28)
	never := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	rollUp(t, s, never, analyticsFixture()...)
	day := store.Query{Site: "shop", From: analyticsDay, To: analyticsDay.Add(24 * time.Hour)}
	assertTotals(t, s, day, store.Totals{Visitors: 3, Sessions: 6, Pageviews: 7, BounceRate: 2.0 / 6, VisitSecs: 2670.0 / 6, Conversions: 4, Revenue: 120})

	// Late, in rolled hours: a click in S2 ten minutes after a4 (S2 is no
	// bounce any more and lasts 600 s) and a new visitor D's page view at
	// 10:30 (a bounce): 4 visitors, 7 sessions, 8 page views, bounces c4
	// and D's, seconds 2670 + 600.
	s2 := visit{"A", "S2", "https://shop.example.com/blog/a", "https://news.ycombinator.com/item?id=1", "", "", event.ChannelReferral, "mobile", "Safari", "iOS"}
	d := visit{"D", "S9", "https://shop.example.com/", "", "", "", event.ChannelDirect, "desktop", "Firefox", "Linux"}
	mustInsert(t, s, []event.Event{
		analyticsEvent("shop", "late-a5", s2, hm(14, 10), event.TypeClick, "share", nil),
		analyticsEvent("shop", "late-d1", d, hm(10, 30), event.TypePageview, "pageview", nil),
	}, 2)
	want := store.Totals{Visitors: 4, Sessions: 7, Pageviews: 8, BounceRate: 2.0 / 7, VisitSecs: 3270.0 / 7, Conversions: 4, Revenue: 120}
	assertTotals(t, s, day, want)
	// The 14:00 hour alone: S2 with both events.
	hour14 := store.Query{Site: "shop", From: analyticsDay.Add(hm(14, 0)), To: analyticsDay.Add(hm(15, 0))}
	assertTotals(t, s, hour14, store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, VisitSecs: 600})
	rollUp(t, s, never, analyticsFixture()...)
	assertTotals(t, s, day, want)
	assertTotals(t, s, hour14, store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, VisitSecs: 600})
}

func testSupersedeRolled(t *testing.T, s store.Store) {
	at := analyticsDay.Add(hm(10, 30))
	browser := event.Event{Site: "sup", EventID: "order-1", Type: event.TypeConversion, Name: "purchase", Source: event.SourceBrowser,
		Timestamp: at, ReceivedAt: at, VisitorID: "V", SessionID: "S", Value: amount(10)}
	mustInsert(t, s, []event.Event{browser}, 1)
	rollUp(t, s, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), browser)
	q := store.Query{Site: "sup", From: analyticsDay, To: analyticsDay.Add(24 * time.Hour)}
	assertTotals(t, s, q, store.Totals{Visitors: 1, Sessions: 1, Conversions: 1, Revenue: 10})

	// The backend's report of the sale, received an hour later, replaces
	// the browser's in its hour: still one conversion, of the server's
	// value.
	server := browser
	server.Source, server.Value, server.ReceivedAt = event.SourceServer, amount(25), at.Add(time.Hour)
	server.VisitorID, server.SessionID = "", ""
	mustInsert(t, s, []event.Event{server}, 1)
	want := store.Totals{Visitors: 1, Sessions: 1, Conversions: 1, Revenue: 25}
	assertTotals(t, s, q, want)
	rollUp(t, s, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), browser)
	assertTotals(t, s, q, want)
}

func testAcrossBoundary(t *testing.T, s store.Store) {
	v := visit{"X", "SX", "https://shop.example.com/", "", "", "", event.ChannelDirect, "desktop", "Firefox", "Linux"}
	events := []event.Event{
		analyticsEvent("span", "x1", v, hm(9, 50), event.TypePageview, "pageview", nil),
		analyticsEvent("span", "x2", v, hm(10, 10), event.TypePageview, "pageview", nil),
	}
	mustInsert(t, s, events, 2)
	twoHours := store.Query{Site: "span", From: analyticsDay.Add(hm(9, 0)), To: analyticsDay.Add(hm(11, 0))}
	nine := store.Query{Site: "span", From: analyticsDay.Add(hm(9, 0)), To: analyticsDay.Add(hm(10, 0))}
	both := store.Totals{Visitors: 1, Sessions: 1, Pageviews: 2, VisitSecs: 1200}
	bounce := store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, BounceRate: 1}
	// 09:00 rolled up, 10:00 open; then both rolled up.
	for _, until := range []time.Time{analyticsDay.Add(hm(10, 30)), analyticsDay.Add(hm(11, 0))} {
		rollUp(t, s, until, events...)
		assertTotals(t, s, twoHours, both)
		assertTotals(t, s, nine, bounce)
		got, err := analyticsOf(t, s).Series(context.Background(), twoHours, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Totals != bounce || got[1].Totals != bounce {
			t.Errorf("rolled up to %v: Series by hour = %+v, want two bounces", until.Format(time.TimeOnly), got)
		}
	}
}

func testDeletion(t *testing.T, fresh func(t *testing.T) (store.Store, DeleteEvents)) {
	s, del := fresh(t)
	mustInsert(t, s, analyticsFixture(), 28)
	rollUp(t, s, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), analyticsFixture()...)
	day := store.Query{Site: "shop", From: analyticsDay, To: analyticsDay.Add(24 * time.Hour)}
	all := store.Totals{Visitors: 3, Sessions: 6, Pageviews: 7, BounceRate: 2.0 / 6, VisitSecs: 2670.0 / 6, Conversions: 4, Revenue: 120}

	// Erasing visitor B: b1..b4 (11:00 to 11:10) and b5 (15:00).
	del(t, "shop", "b1", "b2", "b3", "b4", "b5")
	// The rolled hours do not know until they are refreshed: the contract
	// retention and erasure follow (store.Rollups).
	assertTotals(t, s, day, all)
	r, ok := s.(store.Rollups)
	if !ok {
		t.Fatalf("%T does not implement store.Rollups", s)
	}
	if err := r.RefreshRollups(context.Background(), "shop", analyticsDay.Add(hm(11, 0)), analyticsDay.Add(hm(15, 0)+time.Microsecond)); err != nil {
		t.Fatal(err)
	}
	// A and C: sessions S1, S2, S4 and c4; page views a1 a2 a4 c1 c4;
	// bounces S2 and c4; 270 + 1800 s.
	assertTotals(t, s, day, store.Totals{Visitors: 2, Sessions: 4, Pageviews: 5, BounceRate: 0.5, VisitSecs: 2070.0 / 4, Conversions: 3, Revenue: 120})
	// The hours that held only B's events are empty.
	for _, h := range []int{11, 15} {
		assertTotals(t, s, store.Query{Site: "shop", From: analyticsDay.Add(hm(h, 0)), To: analyticsDay.Add(hm(h+1, 0))}, store.Totals{})
	}
	// The other site keeps its B.
	assertTotals(t, s, store.Query{Site: "other", From: day.From, To: day.To},
		store.Totals{Visitors: 3, Sessions: 6, Pageviews: 7, BounceRate: 2.0 / 6, VisitSecs: 2670.0 / 6, Conversions: 4, Revenue: 2997})
}

func testRefreshBadInput(t *testing.T, s store.Store) {
	r, ok := s.(store.Rollups)
	if !ok {
		t.Fatalf("%T does not implement store.Rollups", s)
	}
	ctx := context.Background()
	// A site never rolled up has nothing to refresh.
	if err := r.RefreshRollups(ctx, "shop", analyticsDay, analyticsDay.Add(time.Hour)); err != nil {
		t.Errorf("RefreshRollups of a site never rolled up: %v", err)
	}
	for name, c := range map[string]struct {
		site     string
		from, to time.Time
	}{
		"no site":   {"", analyticsDay, analyticsDay.Add(time.Hour)},
		"no range":  {"shop", time.Time{}, time.Time{}},
		"backwards": {"shop", analyticsDay.Add(time.Hour), analyticsDay},
	} {
		if err := r.RefreshRollups(ctx, c.site, c.from, c.to); err == nil {
			t.Errorf("RefreshRollups with %s succeeded", name)
		}
	}
}

// testRetentionRollups checks that retention and erasure, the store's own
// deletions, leave the rolled hours as the events that remain.
func testRetentionRollups(t *testing.T, s store.Store) {
	ctx := context.Background()
	r, ok := s.(interface {
		store.Retention
		store.Erasure
	})
	if !ok {
		t.Fatalf("%T does not implement store.Retention and store.Erasure", s)
	}
	mustInsert(t, s, analyticsFixture(), 28)
	rollUp(t, s, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), analyticsFixture()...)
	day := store.Query{Site: "shop", From: analyticsDay, To: analyticsDay.Add(24 * time.Hour)}

	// Everything received before 12:00 goes: left are S4 (c1..c3,
	// 1800 s), c4 and S2 (bounces) and b5.
	if _, err := r.ApplyRetention(ctx, store.RetentionPlan{Site: "shop", DeleteBefore: analyticsDay.Add(12 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	assertTotals(t, s, day, store.Totals{Visitors: 3, Sessions: 4, Pageviews: 3, BounceRate: 0.5, VisitSecs: 450, Conversions: 2, Revenue: 20})

	// Erasing visitor C leaves S2 (a bounce) and b5.
	id, err := r.RequestErasure(ctx, store.ErasureRequest{Site: "shop", RequestedAt: analyticsDay.Add(48 * time.Hour),
		RequestedBy: "admin", KeyKind: store.KeyVisitorID, Key: "C"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.RunErasure(ctx, "shop", id, analyticsDay.Add(48*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	assertTotals(t, s, day, store.Totals{Visitors: 2, Sessions: 2, Pageviews: 1, BounceRate: 0.5})
	// The other site is untouched.
	assertTotals(t, s, store.Query{Site: "other", From: day.From, To: day.To},
		store.Totals{Visitors: 3, Sessions: 6, Pageviews: 7, BounceRate: 2.0 / 6, VisitSecs: 2670.0 / 6, Conversions: 4, Revenue: 2997})
}

// VisitorRows counts the rows of a store's rollup tables (rollup_sessions,
// rollup_visitors and rollup_users) that hold a site's id as a visitor id
// or a user id.
type VisitorRows func(t *testing.T, site, visitorID string) int64

// RunRollupForgetting checks that the rollups keep no visitor or user id
// past its events: retention and erasure, which delete events through the
// store, leave no rollup row holding the id of a visitor or user whose
// events are all gone, and keep those with events left.
func RunRollupForgetting(t *testing.T, open func(t *testing.T) (store.Store, VisitorRows)) {
	ctx := context.Background()
	s, rows := open(t)
	t.Cleanup(func() { _ = s.Close() })
	r, ok := s.(interface {
		store.Retention
		store.Erasure
	})
	if !ok {
		t.Fatalf("%T does not implement store.Retention and store.Erasure", s)
	}
	mustInsert(t, s, analyticsFixture(), 28)
	// A and B also sign in, with user ids equal to their visitor ids: at
	// 10:02 (A) and 15:10 (B).
	a := visit{"A", "S1", "https://shop.example.com/account", "", "", "", event.ChannelDirect, "desktop", "Firefox", "Linux"}
	b := visit{"B", "S5", "https://shop.example.com/account", "", "", "", event.ChannelDirect, "desktop", "Firefox", "Linux"}
	signIns := []event.Event{analyticsEvent("shop", "a-signin", a, hm(10, 2), event.TypeIdentify, "identify", nil),
		analyticsEvent("shop", "b-signin", b, hm(15, 10), event.TypeIdentify, "identify", nil)}
	signIns[0].UserID, signIns[1].UserID = "A", "B"
	mustInsert(t, s, signIns, 2)
	rollUp(t, s, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), analyticsFixture()...)
	for _, v := range []string{"A", "B"} {
		if n := rows(t, "shop", v); n < 3 {
			t.Fatalf("%d rollup rows hold visitor or user %s after the roll-up, want its sessions and both numbers", n, v)
		}
	}
	// Retention before 14:30 leaves none of visitor A's events, and two
	// of B's.
	if _, err := r.ApplyRetention(ctx, store.RetentionPlan{Site: "shop", DeleteBefore: analyticsDay.Add(14*time.Hour + 30*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, "shop", "A"); n != 0 {
		t.Errorf("%d rollup rows still hold visitor A after retention deleted all its events", n)
	}
	if n := rows(t, "shop", "B"); n == 0 {
		t.Errorf("retention dropped visitor B from the rollups, though it has events left")
	}
	id, err := r.RequestErasure(ctx, store.ErasureRequest{Site: "shop", RequestedAt: analyticsDay.Add(48 * time.Hour),
		RequestedBy: "admin", KeyKind: store.KeyVisitorID, Key: "B"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.RunErasure(ctx, "shop", id, analyticsDay.Add(48*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, "shop", "B"); n != 0 {
		t.Errorf("%d rollup rows still hold visitor B after its erasure", n)
	}
	// The other site's visitors of the same ids stay.
	if n := rows(t, "other", "B"); n == 0 {
		t.Errorf("erasing site shop's visitor B dropped site other's from the rollups")
	}
}
