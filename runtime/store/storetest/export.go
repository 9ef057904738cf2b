package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// runExport checks ExportEvents: the order, paging across ties, the
// filters, and that an export inserted into an empty store gives back the
// same events, in the same order.
func runExport(t *testing.T, fresh func(t *testing.T) store.Store, now time.Time) {
	ctx := context.Background()

	t.Run("ExportOrderAndFilters", func(t *testing.T) {
		s := fresh(t)
		ev := func(site, id, visitor, user string, d time.Duration) event.Event {
			e := Full(site, id, now.Add(d))
			e.VisitorID, e.UserID = visitor, user
			return e
		}
		// Out of order across two calls; e2a and e2b tie on received_at
		// and keep their insertion order.
		mustInsert(t, s, []event.Event{
			ev("shop", "e3", "v1", "", 3*time.Hour), ev("shop", "e1", "v1", "u1", time.Hour),
			ev("shop", "e2a", "v2", "u1", 2*time.Hour), ev("shop", "e2b", "v1", "", 2*time.Hour),
		}, 4)
		mustInsert(t, s, []event.Event{
			ev("shop", "e0", "v2", "", 0), ev("other", "o1", "v1", "u1", time.Hour),
		}, 2)
		tests := []struct {
			name   string
			filter store.ExportFilter
			want   []string
		}{
			{"everything", store.ExportFilter{}, []string{"e0", "e1", "e2a", "e2b", "e3"}},
			{"one visitor", store.ExportFilter{VisitorID: "v1"}, []string{"e1", "e2b", "e3"}},
			{"one user", store.ExportFilter{UserID: "u1"}, []string{"e1", "e2a"}},
			{"visitor and user", store.ExportFilter{VisitorID: "v1", UserID: "u1"}, []string{"e1"}},
			{"from is inclusive", store.ExportFilter{From: now.Add(2 * time.Hour)}, []string{"e2a", "e2b", "e3"}},
			{"to is exclusive", store.ExportFilter{To: now.Add(2 * time.Hour)}, []string{"e0", "e1"}},
			{"from and to", store.ExportFilter{From: now.Add(time.Hour), To: now.Add(3 * time.Hour)}, []string{"e1", "e2a", "e2b"}},
			{"nobody", store.ExportFilter{VisitorID: "nobody"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				assertIDs(t, mustExport(t, s, "shop", tt.filter), tt.want...)
			})
		}
		assertIDs(t, mustExport(t, s, "nowhere", store.ExportFilter{}))
	})

	t.Run("ExportPagesAcrossTies", func(t *testing.T) {
		s := fresh(t)
		// Five received_at values for more than two pages of events: page
		// boundaries fall inside runs of equal received_at, where only
		// the insertion order tells exported events from the rest.
		n := 2*store.ExportPageSize + 137
		var want []string
		batch := make([]event.Event, 0, 500)
		for i := range n {
			at := now.Add(time.Duration(i%5) * time.Minute)
			batch = append(batch, Realistic("shop", i, at))
			if len(batch) == cap(batch) || i == n-1 {
				mustInsert(t, s, batch, len(batch))
				batch = batch[:0]
			}
		}
		for minute := range 5 {
			for i := minute; i < n; i += 5 {
				want = append(want, Realistic("shop", i, now).EventID)
			}
		}
		assertIDs(t, mustExport(t, s, "shop", store.ExportFilter{}), want...)
	})

	t.Run("ExportImportRoundTrip", func(t *testing.T) {
		src := fresh(t)
		zero := 0.0
		minimal := event.Event{Site: "shop", EventID: "min", Type: event.TypePageview, Source: event.SourceBrowser,
			Timestamp: now, ReceivedAt: now.Add(time.Minute)}
		zeroValue := Full("shop", "zero", now.Add(2*time.Minute))
		zeroValue.Value = &zero
		browser, server := browserAndServer("sale", now.Add(-time.Hour), now.Add(3*time.Minute))
		mustInsert(t, src, []event.Event{Full("shop", "full", now), minimal, zeroValue, browser, Full("other", "o", now)}, 5)
		mustInsert(t, src, []event.Event{server, Full("shop", "tie", now)}, 2)
		exported := mustExport(t, src, "shop", store.ExportFilter{})
		assertIDs(t, exported, "sale", "full", "tie", "min", "zero")

		dst := fresh(t)
		mustInsert(t, dst, exported, len(exported))
		again := mustExport(t, dst, "shop", store.ExportFilter{})
		if len(again) != len(exported) {
			t.Fatalf("the imported store exports %d events, want %d", len(again), len(exported))
		}
		for i := range exported {
			assertSame(t, again[i], exported[i])
		}
		assertSame(t, again[0], store.Supersede(server, browser))
		// What the dashboard and the events page read agrees too.
		want, got := mustRecent(t, src, "shop", 10), mustRecent(t, dst, "shop", 10)
		for i := range want {
			assertSame(t, got[i], want[i])
		}
		mustInsert(t, dst, exported, 0) // a second import adds nothing
	})

	t.Run("ExportStopsOnError", func(t *testing.T) {
		s := fresh(t)
		mustInsert(t, s, []event.Event{Full("shop", "a", now), Full("shop", "b", now.Add(time.Second))}, 2)
		stop := errors.New("consumer gave up")
		calls := 0
		err := exporter(t, s).ExportEvents(ctx, "shop", store.ExportFilter{}, func(event.Event) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("ExportEvents = %v after %d calls, want the consumer's error after 1", err, calls)
		}
	})

	t.Run("ExportRejectsBackwardsRange", func(t *testing.T) {
		s := fresh(t)
		err := exporter(t, s).ExportEvents(ctx, "shop", store.ExportFilter{From: now, To: now.Add(-time.Hour)}, func(event.Event) error { return nil })
		if err == nil {
			t.Error("an export whose range ends before it starts succeeded")
		}
	})
}

func exporter(t *testing.T, s store.Store) store.Exporter {
	t.Helper()
	x, ok := s.(store.Exporter)
	if !ok {
		t.Fatalf("%T does not implement store.Exporter", s)
	}
	return x
}

func mustExport(t *testing.T, s store.Store, site string, f store.ExportFilter) []event.Event {
	t.Helper()
	var out []event.Event
	err := exporter(t, s).ExportEvents(context.Background(), site, f, func(e event.Event) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatalf("ExportEvents(%q, %s): %v", site, fmt.Sprintf("%+v", f), err)
	}
	return out
}
