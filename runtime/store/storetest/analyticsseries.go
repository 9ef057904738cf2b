package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// runSeries checks buckets in Europe/Berlin around the end of summer time
// on 2026-10-25: at 03:00 CEST clocks go back to 02:00 CET, so that day
// has 25 hours and the hour from 02:00 comes twice.
func runSeries(t *testing.T, fresh func(t *testing.T) store.Store) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("time zone data: %v", err)
	}
	utc := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, time.UTC) }
	pv := func(id, visitor, session string, at time.Time, typ event.Type, value *float64) event.Event {
		return event.Event{Site: "shop", EventID: id, Type: typ, Name: string(typ), Source: event.SourceBrowser,
			Timestamp: at, ReceivedAt: at, VisitorID: visitor, SessionID: session, Value: value}
	}
	events := []event.Event{
		pv("e1", "X", "s1", utc(24, 21, 30), event.TypePageview, nil),          // Oct 24 23:30 CEST
		pv("e2", "X", "s1", utc(24, 22, 30), event.TypePageview, nil),          // Oct 25 00:30 CEST
		pv("e5", "Z", "s3", utc(25, 0, 30), event.TypePageview, nil),           // Oct 25 02:30 CEST
		pv("e6", "Z", "s3", utc(25, 1, 30), event.TypePageview, nil),           // Oct 25 02:30 CET
		pv("e3", "Y", "s2", utc(25, 22, 30), event.TypePageview, nil),          // Oct 25 23:30 CET
		pv("e4", "Y", "s2", utc(25, 23, 30), event.TypeConversion, amount(10)), // Oct 26 00:30 CET
	}
	other := pv("o1", "X", "s1", utc(25, 0, 30), event.TypePageview, nil)
	other.Site = "other"
	events = append(events, other)

	s := fresh(t)
	mustInsert(t, s, events, len(events))
	a := analyticsOf(t, s)
	local := func(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, berlin) }

	t.Run("ByDay", func(t *testing.T) {
		q := store.Query{Site: "shop", From: local(24, 0), To: local(27, 0), Location: berlin}
		// Each day counts its own events: s1 is split at local midnight
		// into two bounces. Oct 25 runs 25 hours, to 23:00 UTC, so e3
		// (22:30 UTC) is in it; s3 lasts an hour (3600 s over 3 sessions).
		// Oct 26 has only a conversion: a session, not a bounce.
		want := []store.Point{
			{Start: local(24, 0), Totals: store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, BounceRate: 1}},
			{Start: local(25, 0), Totals: store.Totals{Visitors: 3, Sessions: 3, Pageviews: 4, BounceRate: 2.0 / 3, VisitSecs: 1200}},
			{Start: local(26, 0), Totals: store.Totals{Visitors: 1, Sessions: 1, Conversions: 1, Revenue: 10}},
		}
		assertSeries(t, a, q, 24*time.Hour, want)
		if d := want[2].Start.Sub(want[1].Start); d != 25*time.Hour {
			t.Errorf("the fixture's Oct 25 lasts %v, want 25h", d)
		}
	})

	t.Run("ByHourOverTheChange", func(t *testing.T) {
		// 00:00 CEST to 04:00 CET is five hours; 02:00 comes twice.
		q := store.Query{Site: "shop", From: local(25, 0), To: local(25, 4), Location: berlin}
		bounce := store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, BounceRate: 1}
		want := []store.Point{
			{Start: utc(24, 22, 0), Totals: bounce}, // e2
			{Start: utc(24, 23, 0)},
			{Start: utc(25, 0, 0), Totals: bounce}, // e5, 02:30 CEST
			{Start: utc(25, 1, 0), Totals: bounce}, // e6, 02:30 CET
			{Start: utc(25, 2, 0)},
		}
		assertSeries(t, a, q, time.Hour, want)
	})

	t.Run("ByHourFromMidHour", func(t *testing.T) {
		// Buckets start at the full hour before From; events before From
		// are still not counted (e1 at 21:30 UTC).
		q := store.Query{Site: "shop", From: utc(24, 21, 45), To: utc(24, 22, 45), Location: berlin}
		want := []store.Point{
			{Start: utc(24, 21, 0)},
			{Start: utc(24, 22, 0), Totals: store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, BounceRate: 1}},
		}
		assertSeries(t, a, q, time.Hour, want)
	})

	t.Run("ByDayInUTC", func(t *testing.T) {
		// No location: UTC days. Oct 24 has e1 and e2 (s1: 3600 s).
		q := store.Query{Site: "shop", From: utc(24, 0, 0), To: utc(26, 0, 0)}
		want := []store.Point{
			{Start: utc(24, 0, 0), Totals: store.Totals{Visitors: 1, Sessions: 1, Pageviews: 2, VisitSecs: 3600}},
			{Start: utc(25, 0, 0), Totals: store.Totals{Visitors: 2, Sessions: 2, Pageviews: 3, VisitSecs: 3600, Conversions: 1, Revenue: 10}},
		}
		assertSeries(t, a, q, 24*time.Hour, want)
	})

	t.Run("HalfHourZone", func(t *testing.T) {
		// India is UTC+05:30: local hours start at half past in UTC.
		kolkata, err := time.LoadLocation("Asia/Kolkata")
		if err != nil {
			t.Fatalf("time zone data: %v", err)
		}
		q := store.Query{Site: "shop", From: utc(25, 0, 0), To: utc(25, 2, 0), Location: kolkata}
		want := []store.Point{
			{Start: utc(24, 23, 30)}, // 05:00 IST, From is 05:30
			{Start: utc(25, 0, 30), Totals: store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, BounceRate: 1}}, // e5 at 00:30
			{Start: utc(25, 1, 30), Totals: store.Totals{Visitors: 1, Sessions: 1, Pageviews: 1, BounceRate: 1}}, // e6 at 01:30
		}
		assertSeries(t, a, q, time.Hour, want)
	})
}

func assertSeries(t *testing.T, a store.Analytics, q store.Query, step time.Duration, want []store.Point) {
	t.Helper()
	got, err := a.Series(context.Background(), q, step)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Series returned %d points, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || got[i].Totals != want[i].Totals {
			t.Errorf("point %d = %v %+v\nwant       %v %+v", i, got[i].Start, got[i].Totals, want[i].Start, want[i].Totals)
		}
		if q.Location != nil && got[i].Start.Location() != q.Location {
			t.Errorf("point %d starts in %v, want %v", i, got[i].Start.Location(), q.Location)
		}
	}
}

// runURLParts checks that both stores cut pages and referrer hosts alike:
// one site per URL, broken down by page and by source.
func runURLParts(t *testing.T, fresh func(t *testing.T) store.Store) {
	t.Run("URLParts", func(t *testing.T) {
		s := fresh(t)
		a := analyticsOf(t, s)
		at := analyticsDay
		cases := []struct{ url, page, referrer, source string }{
			{"https://shop.example.com", "/", "https://www.google.com/search?q=x", "www.google.com"},
			{"https://shop.example.com?x=1", "/", "https://news.example.org:8443#top", "news.example.org:8443"},
			{"HTTP://Shop.Example.com:8080/A/b/?q#f", "/A/b/", "android-app://com.slack/", "com.slack"},
			{"/rel/x?y=1", "/rel/x", "not a url", "(direct)"},
			{"checkout#done", "checkout", "", "(direct)"},
			{"https://shop.example.com/50%25_off/ü", "/50%25_off/ü", "https://", "(direct)"},
			{"?only=query", "/", "mailto:a@example.com", "(direct)"},
			{"1http://x/y", "1http://x/y", "1http://x/y", "(direct)"},
		}
		var events []event.Event
		for i, c := range cases {
			events = append(events, event.Event{Site: fmt.Sprint("site", i), EventID: "e", Type: event.TypePageview, Name: "pageview",
				Source: event.SourceBrowser, Timestamp: at, ReceivedAt: at, VisitorID: "v", URL: c.url, Referrer: c.referrer})
		}
		mustInsert(t, s, events, len(events))
		for i, c := range cases {
			t.Run(c.url, func(t *testing.T) {
				q := store.Query{Site: fmt.Sprint("site", i), From: at, To: at.Add(time.Hour)}
				for dim, want := range map[string]string{store.DimPage: c.page, store.DimSource: c.source} {
					got, err := a.Breakdown(context.Background(), q, dim, 5)
					if err != nil {
						t.Fatal(err)
					}
					if w := []store.Row{{Value: want, Visitors: 1, Pageviews: 1}}; !reflect.DeepEqual(got, w) {
						t.Errorf("%s: Breakdown = %+v, want %+v", dim, got, w)
					}
				}
			})
		}
	})
}
