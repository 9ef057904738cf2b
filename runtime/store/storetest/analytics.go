package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// analyticsOf returns s as store.Analytics, failing the test when it is not.
func analyticsOf(t *testing.T, s store.Store) store.Analytics {
	t.Helper()
	a, ok := s.(store.Analytics)
	if !ok {
		t.Fatalf("%T does not implement store.Analytics", s)
	}
	return a
}

// runAnalytics checks the reports against numbers computed by hand from
// analyticsFixture (its table is the reference for every comment below).
func runAnalytics(t *testing.T, fresh func(t *testing.T) store.Store) {
	t.Run("Analytics", func(t *testing.T) {
		s := fresh(t)
		mustInsert(t, s, analyticsFixture(), 28)
		a := analyticsOf(t, s)
		day := store.Query{Site: "shop", From: analyticsDay, To: analyticsDay.Add(24 * time.Hour)}
		t.Run("Totals", func(t *testing.T) { testTotals(t, a, day) })
		t.Run("Breakdown", func(t *testing.T) { testBreakdown(t, a, day) })
		t.Run("Goals", func(t *testing.T) { testGoals(t, a, day) })
		t.Run("BadQueries", func(t *testing.T) { testBadQueries(t, a, day) })
		t.Run("Touchpoints", func(t *testing.T) { testTouchpoints(t, s, day) })
	})
	t.Run("TouchesStitched", func(t *testing.T) {
		s := fresh(t)
		mustInsert(t, s, stitchFixture(), 17)
		testTouchStitching(t, s)
	})
	t.Run("Series", func(t *testing.T) { runSeries(t, fresh) })
	t.Run("Journey", func(t *testing.T) { testJourney(t, fresh) })
	runURLParts(t, fresh)
}

func testTotals(t *testing.T, a store.Analytics, day store.Query) {
	filtered := func(f store.Filters) store.Query { q := day; q.Filters = f; return q }
	other := day
	other.Site = "other"
	tests := []struct {
		name string
		q    store.Query
		want store.Totals
	}{
		// Visitors A, B, C; sessions S1-S4, c4's own and b5's own; page
		// views a1 a2 a4 b1 b3 c1 c4; bounces S2 and c4; seconds
		// 270+0+600+1800+0+0 = 2670 over 6; conversions a3 b4 c2 c3;
		// revenue 100+50-30. The events just before and at the end of the
		// day are not counted.
		{"day", day, store.Totals{Visitors: 3, Sessions: 6, Pageviews: 7, BounceRate: 2.0 / 6, VisitSecs: 2670.0 / 6, Conversions: 4, Revenue: 120}},
		// The same events on site other, each value 999 (a3 c2 c3).
		{"other site", other, store.Totals{Visitors: 3, Sessions: 6, Pageviews: 7, BounceRate: 2.0 / 6, VisitSecs: 2670.0 / 6, Conversions: 4, Revenue: 2997}},
		{"nobody", store.Query{Site: "nobody", From: day.From, To: day.To}, store.Totals{}},
		// a1..a3: 270 s, not a bounce.
		{"source google", filtered(store.Filters{Source: "google"}), store.Totals{Visitors: 1, Sessions: 1, Pageviews: 2, VisitSecs: 270, Conversions: 1, Revenue: 100}},
		// b1..b4 (S3, 600 s), c4 (no utm, no referrer; a bounce) and b5.
		{"source direct", filtered(store.Filters{Source: "(direct)"}), store.Totals{Visitors: 2, Sessions: 3, Pageviews: 3, BounceRate: 1.0 / 3, VisitSecs: 200, Conversions: 1}},
		// a4, the referrer's host.
		{"source referrer host", filtered(store.Filters{Source: "news.ycombinator.com"}), store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, BounceRate: 1}},
		// a2 (#plans dropped), c1, c4 (relative, ?from dropped): each the
		// only matching event of its session, so each a bounce of 0 s.
		{"page", filtered(store.Filters{Page: "/pricing"}), store.Totals{Visitors: 2, Sessions: 3, Pageviews: 3, BounceRate: 1}},
		// c1..c3 (S4, 1800 s) and c4 (a bounce).
		{"channel", filtered(store.Filters{Channel: "email"}), store.Totals{Visitors: 1, Sessions: 2, Pageviews: 2, BounceRate: 0.5, VisitSecs: 900, Conversions: 2, Revenue: 20}},
		// a1..a3 (270 s) and c1..c3 (1800 s).
		{"campaign", filtered(store.Filters{Campaign: "spring"}), store.Totals{Visitors: 2, Sessions: 2, Pageviews: 3, VisitSecs: 1035, Conversions: 3, Revenue: 120}},
		// a4 (a bounce), b1..b4 (600 s) and b5.
		{"device", filtered(store.Filters{Device: "mobile"}), store.Totals{Visitors: 2, Sessions: 3, Pageviews: 3, BounceRate: 1.0 / 3, VisitSecs: 200, Conversions: 1}},
		// Every filter must hold: c1..c3 only.
		{"campaign and device", filtered(store.Filters{Campaign: "spring", Device: "tablet"}), store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, VisitSecs: 1800, Conversions: 2, Revenue: 20}},
		{"no match", filtered(store.Filters{Channel: "email", Device: "desktop"}), store.Totals{}},
		// [10:00, 10:05): a1 and a2 only, a3 is received at 10:05.
		{"to excluded", store.Query{Site: "shop", From: analyticsDay.Add(hm(10, 0)), To: analyticsDay.Add(hm(10, 5))},
			store.Totals{Visitors: 1, Sessions: 1, Pageviews: 2, VisitSecs: 120}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Totals(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Totals = %+v\nwant     %+v", got, tt.want)
			}
		})
	}
}

func testBreakdown(t *testing.T, a store.Analytics, day store.Query) {
	mobile := day
	mobile.Filters.Device = "mobile"
	tests := []struct {
		name  string
		q     store.Query
		dim   string
		limit int
		want  []store.Row
	}{
		// Ties on visitors and page views go by value: /blog/a before
		// /welcome/start. /checkout/done has only conversions (a3 c2 c3).
		{"page", day, store.DimPage, 10, []store.Row{
			{Value: "/pricing", Visitors: 2, Pageviews: 3},
			{Value: "/", Visitors: 2, Pageviews: 2},
			{Value: "/checkout/done", Visitors: 2, Conversions: 3, Revenue: 120},
			{Value: "/blog/a", Visitors: 1, Pageviews: 1},
			{Value: "/welcome/start", Visitors: 1, Pageviews: 1},
			{Value: "/welcome/done", Visitors: 1, Conversions: 1},
		}},
		{"page limit", day, store.DimPage, 2, []store.Row{
			{Value: "/pricing", Visitors: 2, Pageviews: 3},
			{Value: "/", Visitors: 2, Pageviews: 2},
		}},
		{"page filtered", mobile, store.DimPage, 10, []store.Row{
			{Value: "/", Visitors: 1, Pageviews: 1},
			{Value: "/blog/a", Visitors: 1, Pageviews: 1},
			{Value: "/welcome/start", Visitors: 1, Pageviews: 1},
			{Value: "/welcome/done", Visitors: 1, Conversions: 1},
		}},
		// "news." before "newsl": '.' is below 'l'.
		{"source", day, store.DimSource, 10, []store.Row{
			{Value: "(direct)", Visitors: 2, Pageviews: 3, Conversions: 1},
			{Value: "google", Visitors: 1, Pageviews: 2, Conversions: 1, Revenue: 100},
			{Value: "news.ycombinator.com", Visitors: 1, Pageviews: 1},
			{Value: "newsletter", Visitors: 1, Pageviews: 1, Conversions: 2, Revenue: 20},
		}},
		{"referrer", day, store.DimReferrer, 10, []store.Row{
			{Value: "(none)", Visitors: 3, Pageviews: 6, Conversions: 4, Revenue: 120},
			{Value: "news.ycombinator.com", Visitors: 1, Pageviews: 1},
		}},
		{"channel", day, store.DimChannel, 10, []store.Row{
			{Value: "direct", Visitors: 1, Pageviews: 2, Conversions: 1},
			{Value: "email", Visitors: 1, Pageviews: 2, Conversions: 2, Revenue: 20},
			{Value: "paid_search", Visitors: 1, Pageviews: 2, Conversions: 1, Revenue: 100},
			{Value: "referral", Visitors: 1, Pageviews: 1},
		}},
		// (none): a4, b1..b4, c4.
		{"campaign", day, store.DimCampaign, 10, []store.Row{
			{Value: "(none)", Visitors: 3, Pageviews: 4, Conversions: 1},
			{Value: "spring", Visitors: 2, Pageviews: 3, Conversions: 3, Revenue: 120},
		}},
		{"device", day, store.DimDevice, 10, []store.Row{
			{Value: "mobile", Visitors: 2, Pageviews: 3, Conversions: 1},
			{Value: "desktop", Visitors: 1, Pageviews: 2, Conversions: 1, Revenue: 100},
			{Value: "tablet", Visitors: 1, Pageviews: 2, Conversions: 2, Revenue: 20},
		}},
		{"browser", day, store.DimBrowser, 10, []store.Row{
			{Value: "Safari", Visitors: 2, Pageviews: 3, Conversions: 2, Revenue: 20},
			{Value: "Chrome", Visitors: 1, Pageviews: 2, Conversions: 1},
			{Value: "Firefox", Visitors: 1, Pageviews: 2, Conversions: 1, Revenue: 100},
		}},
		// Byte order, not a language's: Android, Linux, iPadOS.
		{"os", day, store.DimOS, 10, []store.Row{
			{Value: "Android", Visitors: 1, Pageviews: 2, Conversions: 1},
			{Value: "Linux", Visitors: 1, Pageviews: 2, Conversions: 1, Revenue: 100},
			{Value: "iPadOS", Visitors: 1, Pageviews: 2, Conversions: 2, Revenue: 20},
			{Value: "iOS", Visitors: 1, Pageviews: 1},
		}},
		{"limit 0", day, store.DimPage, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Breakdown(context.Background(), tt.q, tt.dim, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Breakdown(%s) =\n%+v\nwant\n%+v", tt.dim, got, tt.want)
			}
		})
	}
}

func testGoals(t *testing.T, a store.Analytics, day store.Query) {
	goals := []store.Goal{
		{Name: "Purchase", Event: "purchase"},  // a3 (A, 100), c2 (C, 50)
		{Name: "Signup", Event: "signup"},      // b4 (B)
		{Name: "Pricing", Path: "/pricing"},    // page views a2, c1, c4 (A, C)
		{Name: "Welcome", Path: "/welcome*"},   // page view b3; b4 is no page view
		{Name: "Any page", Path: "/*"},         // all 7 page views
		{Name: "Nothing", Event: "pageview*"},  // * is literal in event names
		{Name: "Prefix only", Path: "/pric"},   // no * : exact
		{Name: "Signup path", Path: "/welco*"}, // b3 again
	}
	got, err := a.Goals(context.Background(), day, goals)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.GoalRow{
		{Name: "Purchase", Visitors: 2, Completions: 2, Revenue: 150, ConversionRate: 2.0 / 3},
		{Name: "Signup", Visitors: 1, Completions: 1, ConversionRate: 1.0 / 3},
		{Name: "Pricing", Visitors: 2, Completions: 3, ConversionRate: 2.0 / 3},
		{Name: "Welcome", Visitors: 1, Completions: 1, ConversionRate: 1.0 / 3},
		{Name: "Any page", Visitors: 3, Completions: 7, ConversionRate: 1},
		{Name: "Nothing"},
		{Name: "Prefix only"},
		{Name: "Signup path", Visitors: 1, Completions: 1, ConversionRate: 1.0 / 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Goals =\n%+v\nwant\n%+v", got, want)
	}

	// Filtered to mobile: visitors A (a4) and B; no purchase is mobile,
	// the signup is.
	mobile := day
	mobile.Filters.Device = "mobile"
	got, err = a.Goals(context.Background(), mobile, goals[:2])
	if err != nil {
		t.Fatal(err)
	}
	want = []store.GoalRow{{Name: "Purchase"}, {Name: "Signup", Visitors: 1, Completions: 1, ConversionRate: 0.5}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Goals on mobile =\n%+v\nwant\n%+v", got, want)
	}
}

func testBadQueries(t *testing.T, a store.Analytics, day store.Query) {
	ctx := context.Background()
	backwards := day
	backwards.From, backwards.To = day.To, day.From
	noSite := day
	noSite.Site = ""
	noRange := store.Query{Site: "shop"}
	for name, q := range map[string]store.Query{"backwards": backwards, "no site": noSite, "no range": noRange} {
		t.Run(name, func(t *testing.T) {
			if _, err := a.Totals(ctx, q); err == nil {
				t.Error("Totals succeeded")
			}
			if _, err := a.Series(ctx, q, time.Hour); err == nil {
				t.Error("Series succeeded")
			}
		})
	}
	if _, err := a.Breakdown(ctx, day, "country", 10); err == nil {
		t.Error("Breakdown by an unknown dimension succeeded")
	}
	if _, err := a.Series(ctx, day, time.Minute); err == nil {
		t.Error("Series by minute succeeded")
	}
	for _, g := range []store.Goal{{Name: "both", Event: "e", Path: "/p"}, {Name: "neither"}} {
		if _, err := a.Goals(ctx, day, []store.Goal{g}); err == nil {
			t.Errorf("Goals with goal %+v succeeded", g)
		}
	}
}
