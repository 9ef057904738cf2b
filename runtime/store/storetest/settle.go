package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// cursorAt returns the destination's cursor position (a Feed of nothing).
func (f fwd) cursorAt(site, dest string) store.FeedPosition {
	f.t.Helper()
	_, pos := f.feed(site, dest, 0)
	return pos
}

func (f fwd) feedFrom(site, dest string, pos store.FeedPosition, limit int) ([]string, store.FeedPosition) {
	f.t.Helper()
	events, next, err := f.FeedFrom(context.Background(), site, dest, pos, limit)
	if err != nil {
		f.t.Fatalf("FeedFrom(%s, %s): %v", site, dest, err)
	}
	var ids []string
	for _, e := range events {
		ids = append(ids, e.EventID)
	}
	return ids, next
}

func (f fwd) recorded(site, dest string, ids ...string) map[string]event.Source {
	f.t.Helper()
	got, err := f.Recorded(context.Background(), site, dest, ids)
	if err != nil {
		f.t.Fatalf("Recorded(%s, %s): %v", site, dest, err)
	}
	return got
}

// settled is the record of an event fed at, as a forwarder settles it.
func settled(id, status string, at time.Time) store.Delivery {
	return store.Delivery{EventID: id, Status: status, SendAs: "Purchase", Attempts: 1, ResponseID: "r-" + id,
		ReceivedAt: at, Source: event.SourceServer}
}

// feedFromAndSettle: a forwarder reads ahead of its cursor with FeedFrom,
// and Settle stores final records and moves the cursor in one step, only
// from where the forwarder left it.
func feedFromAndSettle(t *testing.T, f fwd, now time.Time) {
	ctx := context.Background()
	f.open("shop", "meta", now.Add(-time.Hour), false)
	mustInsert(t, f, []event.Event{Full("shop", "a", now), Full("shop", "b", now), Full("shop", "c", now)}, 3)
	start := f.cursorAt("shop", "meta")
	first, pos1 := f.feedFrom("shop", "meta", start, 2)
	second, pos2 := f.feedFrom("shop", "meta", pos1, 10)
	assertStrings(t, "pages read ahead", append(first, second...), []string{"a", "b", "c"})
	if got := f.recorded("shop", "meta", "a", "b", "c"); len(got) != 0 {
		t.Errorf("Recorded before anything was settled = %v, want none", got)
	}
	ids, _ := f.feedFrom("shop", "meta", f.cursorAt("shop", "meta"), 10)
	assertStrings(t, "feed from the unmoved cursor", ids, []string{"a", "b", "c"})

	failed := settled("b", store.DeliveryFailed, now)
	failed.Reason = "bad currency"
	if err := f.Settle(ctx, "shop", "meta", []store.Delivery{settled("a", store.DeliverySent, now), failed},
		&store.CursorMove{From: start, To: pos1}); err != nil {
		t.Fatalf("Settle of the first page: %v", err)
	}
	ids, _ = f.feedFrom("shop", "meta", f.cursorAt("shop", "meta"), 10)
	assertStrings(t, "feed after the first page settled", ids, []string{"c"})
	recs := f.byID("shop", "meta")
	if a := recs["a"]; a.Status != store.DeliverySent || a.ResponseID != "r-a" || a.Attempts != 1 || a.SendAs != "Purchase" {
		t.Errorf("a settled as %+v, want sent once as Purchase with r-a", a)
	}
	if b := recs["b"]; b.Status != store.DeliveryFailed || b.Reason != "bad currency" {
		t.Errorf("b settled as %+v, want failed with its reason", b)
	}
	got := f.recorded("shop", "meta", "a", "b", "c")
	assertStrings(t, "Recorded after the first page", slices.Sorted(maps.Keys(got)), []string{"a", "b"})
	if got["a"] != event.SourceServer {
		t.Errorf("Recorded gives a's source as %q, want server", got["a"])
	}

	// An answer Settle does not move the cursor for; then one from where
	// the cursor no longer is (a backfill moved it): the record is stored,
	// the cursor stays.
	retry := settled("c", store.DeliveryPending, now)
	retry.NextAttemptAt = now.Add(time.Hour)
	if err := f.Settle(ctx, "shop", "meta", []store.Delivery{retry}, nil); err != nil {
		t.Fatalf("Settle without a move: %v", err)
	}
	err := f.Settle(ctx, "shop", "meta", []store.Delivery{settled("a", store.DeliveryFailed, now)}, &store.CursorMove{From: start, To: pos2})
	if !errors.Is(err, store.ErrCursorMoved) {
		t.Errorf("Settle from a position the cursor left = %v, want ErrCursorMoved", err)
	}
	ids, _ = f.feedFrom("shop", "meta", f.cursorAt("shop", "meta"), 10)
	assertStrings(t, "feed after a refused move", ids, []string{"c"})
	if st := f.stats("shop", "meta"); st.Pending != 1 || st.Counts[store.DeliverySent] != 1 {
		t.Errorf("stats = %+v: a record that exists must stay (a sent), c pending", st)
	}
	if due := f.due("shop", "meta", now.Add(2*time.Hour), 10); len(due) != 1 || due[0].Delivery.Attempts != 1 {
		t.Errorf("Due after the hour = %+v, want c with its attempt", due)
	}
}

// settleSupersedes: a settled record made for a browser event gives way
// to the server event superseding it, as Track's does.
func settleSupersedes(t *testing.T, f fwd, now time.Time) {
	ctx := context.Background()
	f.open("shop", "meta", now.Add(-48*time.Hour), false)
	browser, server := browserAndServer("order-1", now.Add(-time.Hour), now)
	rec := settled("order-1", store.DeliverySkipped, browser.ReceivedAt)
	rec.Source = event.SourceBrowser
	if err := f.Settle(ctx, "shop", "meta", []store.Delivery{rec}, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.recorded("shop", "meta", "order-1"); got["order-1"] != event.SourceBrowser {
		t.Fatalf("Recorded = %v, want order-1 made for a browser event", got)
	}
	sent := settled("order-1", store.DeliverySent, server.ReceivedAt)
	sent.SendAs = "Purchase2"
	if err := f.Settle(ctx, "shop", "meta", []store.Delivery{sent}, nil); err != nil {
		t.Fatal(err)
	}
	if r := f.byID("shop", "meta")["order-1"]; r.Status != store.DeliverySent || r.SendAs != "Purchase2" {
		t.Errorf("after the server event settled the record is %+v, want sent as Purchase2", r)
	}
	if got := f.recorded("shop", "meta", "order-1"); got["order-1"] != event.SourceServer {
		t.Errorf("Recorded = %v, want order-1 made for the server event", got)
	}
}

// settleBadInput: FeedFrom needs a cursor, Settle well-formed records.
func settleBadInput(t *testing.T, f fwd, now time.Time) {
	ctx := context.Background()
	if _, _, err := f.FeedFrom(ctx, "shop", "meta", store.FeedPosition{}, 10); !errors.Is(err, store.ErrNoCursor) {
		t.Errorf("FeedFrom without a cursor = %v, want ErrNoCursor", err)
	}
	f.open("shop", "meta", now, false)
	bad := map[string]store.Delivery{
		"no event id":    {Status: store.DeliverySent, ReceivedAt: now, Source: event.SourceServer},
		"unknown status": {EventID: "x", Status: "delivered", ReceivedAt: now, Source: event.SourceServer},
		"no received_at": {EventID: "x", Status: store.DeliverySent, Source: event.SourceServer},
		"no source":      {EventID: "x", Status: store.DeliverySent, ReceivedAt: now},
	}
	for name, r := range bad {
		if err := f.Settle(ctx, "shop", "meta", []store.Delivery{r}, nil); !errors.Is(err, store.ErrInvalidDelivery) {
			t.Errorf("Settle of a record with %s = %v, want ErrInvalidDelivery", name, err)
		}
	}
	if recs := f.byID("shop", "meta"); len(recs) != 0 {
		t.Errorf("bad records left %v", recs)
	}
}
