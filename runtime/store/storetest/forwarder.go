package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// forwarding is what a forwarder holds: the store and its Deliveries.
type forwarding interface {
	store.Store
	store.Deliveries
}

// fwd wraps a store with the steps a forwarder takes, failing the test on
// any error.
type fwd struct {
	t *testing.T
	forwarding
}

func asForwarding(t *testing.T, s store.Store) fwd {
	t.Helper()
	f, ok := s.(forwarding)
	if !ok {
		t.Fatalf("%T does not implement store.Deliveries", s)
	}
	return fwd{t: t, forwarding: f}
}

func (f fwd) open(site, dest string, since time.Time, reset bool) bool {
	f.t.Helper()
	created, err := f.OpenCursor(context.Background(), site, dest, since, reset)
	if err != nil {
		f.t.Fatalf("OpenCursor(%s, %s): %v", site, dest, err)
	}
	return created
}

func (f fwd) feed(site, dest string, limit int) ([]event.Event, store.FeedPosition) {
	f.t.Helper()
	events, pos, err := f.Feed(context.Background(), site, dest, limit)
	if err != nil {
		f.t.Fatalf("Feed(%s, %s): %v", site, dest, err)
	}
	return events, pos
}

// pendingFor returns a pending record for each event, as a forwarder
// tracks what it fed.
func pendingFor(dest, sendAs string, events []event.Event) []store.Delivery {
	recs := make([]store.Delivery, len(events))
	for i, e := range events {
		recs[i] = store.Delivery{Site: e.Site, Destination: dest, EventID: e.EventID, Status: store.DeliveryPending,
			SendAs: sendAs, ReceivedAt: e.ReceivedAt, Source: e.Source}
	}
	return recs
}

func (f fwd) track(site, dest string, recs []store.Delivery, pos store.FeedPosition) []string {
	f.t.Helper()
	tracked, err := f.Track(context.Background(), site, dest, recs, pos)
	if err != nil {
		f.t.Fatalf("Track(%s, %s): %v", site, dest, err)
	}
	return tracked
}

// drain feeds the destination to the end in pages of limit, tracking each
// page as pending, and returns the ids in feed order.
func (f fwd) drain(site, dest string, limit int) []string {
	f.t.Helper()
	var ids []string
	for range 1000 {
		events, pos := f.feed(site, dest, limit)
		if len(events) > limit {
			f.t.Fatalf("Feed returned %d events, limit %d", len(events), limit)
		}
		if len(events) == 0 {
			return ids
		}
		for _, e := range events {
			if e.Site != site {
				f.t.Errorf("Feed of site %s returned event %s of site %s", site, e.EventID, e.Site)
			}
			ids = append(ids, e.EventID)
		}
		f.track(site, dest, pendingFor(dest, "Purchase", events), pos)
	}
	f.t.Fatal("Feed never reached the end")
	return nil
}

func (f fwd) due(site, dest string, now time.Time, limit int) []store.PendingDelivery {
	f.t.Helper()
	got, err := f.Due(context.Background(), site, dest, now, limit)
	if err != nil {
		f.t.Fatalf("Due(%s, %s): %v", site, dest, err)
	}
	return got
}

func (f fwd) record(site, dest string, recs ...store.Delivery) {
	f.t.Helper()
	if err := f.Record(context.Background(), site, dest, recs); err != nil {
		f.t.Fatalf("Record(%s, %s): %v", site, dest, err)
	}
}

func (f fwd) list(site, dest, status string) []store.Delivery {
	f.t.Helper()
	got, err := f.ListDeliveries(context.Background(), site, dest, status, 1000)
	if err != nil {
		f.t.Fatalf("ListDeliveries(%s, %s, %q): %v", site, dest, status, err)
	}
	return got
}

// byID returns the destination's records by event id.
func (f fwd) byID(site, dest string) map[string]store.Delivery {
	f.t.Helper()
	m := map[string]store.Delivery{}
	for _, d := range f.list(site, dest, "") {
		if _, dup := m[d.EventID]; dup {
			f.t.Errorf("%s/%s has two records of event %s", site, dest, d.EventID)
		}
		m[d.EventID] = d
	}
	return m
}

func (f fwd) stats(site, dest string) store.DeliveryStats {
	f.t.Helper()
	st, err := f.DeliveryStats(context.Background(), site, dest)
	if err != nil {
		f.t.Fatalf("DeliveryStats(%s, %s): %v", site, dest, err)
	}
	return st
}

func outcome(id, status string) store.Delivery {
	return store.Delivery{EventID: id, Status: status}
}

// dueEvents returns the events of due records, for assertIDs.
func dueEvents(ps []store.PendingDelivery) []event.Event {
	out := make([]event.Event, len(ps))
	for i, p := range ps {
		out[i] = p.Event
		if p.Delivery.EventID != p.Event.EventID {
			out[i].EventID = fmt.Sprintf("record %s with event %s", p.Delivery.EventID, p.Event.EventID)
		}
	}
	return out
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

// eventsOf returns the records' event ids as events sorted by id, for
// assertIDs: ListDeliveries is newest first, and records updated together
// may come in any order among themselves.
func eventsOf(ds []store.Delivery) []event.Event {
	out := make([]event.Event, len(ds))
	for i, d := range ds {
		out[i].EventID = d.EventID
	}
	slices.SortFunc(out, func(a, b event.Event) int { return strings.Compare(a.EventID, b.EventID) })
	return out
}

func assertStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
