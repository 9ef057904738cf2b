package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// runDeliveries checks the feed and the delivery records (store.Deliveries).
func runDeliveries(t *testing.T, fresh func(t *testing.T) store.Store, now time.Time) {
	ctx := context.Background()
	t.Run("Deliveries", func(t *testing.T) {
		t.Run("FeedOrderAndCompleteness", func(t *testing.T) { feedOrder(t, asForwarding(t, fresh(t)), now) })
		t.Run("SinceStart", func(t *testing.T) { sinceStart(t, asForwarding(t, fresh(t)), now) })
		t.Run("ResetKeepsRecords", func(t *testing.T) { resetKeepsRecords(t, asForwarding(t, fresh(t)), now) })
		t.Run("TrackIdempotent", func(t *testing.T) { trackIdempotent(t, asForwarding(t, fresh(t)), now) })
		t.Run("SupersededFedAgain", func(t *testing.T) { supersededFedAgain(t, asForwarding(t, fresh(t)), now) })
		t.Run("SupersededBeforeTrack", func(t *testing.T) { supersededBeforeTrack(t, asForwarding(t, fresh(t)), now) })
		t.Run("DueOrderAndNextAttempt", func(t *testing.T) { dueOrder(t, asForwarding(t, fresh(t)), now) })
		t.Run("DueSkipsGoneEvents", func(t *testing.T) { dueSkipsGone(t, asForwarding(t, fresh(t)), now) })
		t.Run("RecordReplayStats", func(t *testing.T) { recordReplayStats(t, asForwarding(t, fresh(t)), now) })
		t.Run("ReclaimLeases", func(t *testing.T) { reclaimLeases(t, asForwarding(t, fresh(t)), now) })
		t.Run("FeedFromAndSettle", func(t *testing.T) { feedFromAndSettle(t, asForwarding(t, fresh(t)), now) })
		t.Run("SettleSupersedes", func(t *testing.T) { settleSupersedes(t, asForwarding(t, fresh(t)), now) })
		t.Run("SettleBadInput", func(t *testing.T) { settleBadInput(t, asForwarding(t, fresh(t)), now) })
		t.Run("DeliveryDays", func(t *testing.T) { deliveryDays(t, asForwarding(t, fresh(t))) })
		t.Run("ForgetRawIPs", func(t *testing.T) { forgetRawIPs(t, asForwarding(t, fresh(t)), now) })
		t.Run("OrderConversion", func(t *testing.T) { orderConversion(t, asForwarding(t, fresh(t)), now) })
		t.Run("Isolation", func(t *testing.T) { isolation(t, asForwarding(t, fresh(t)), now) })
		t.Run("BadInput", func(t *testing.T) {
			f := asForwarding(t, fresh(t))
			if _, _, err := f.Feed(ctx, "shop", "meta", 10); !errors.Is(err, store.ErrNoCursor) {
				t.Errorf("Feed without a cursor = %v, want ErrNoCursor", err)
			}
			if _, err := f.Track(ctx, "shop", "meta", nil, store.FeedPosition{}); !errors.Is(err, store.ErrNoCursor) {
				t.Errorf("Track without a cursor = %v, want ErrNoCursor", err)
			}
			f.open("shop", "meta", now, false)
			bad := map[string]store.Delivery{
				"no event id":    {Status: store.DeliveryPending, ReceivedAt: now, Source: event.SourceServer},
				"sent at birth":  {EventID: "x", Status: store.DeliverySent, ReceivedAt: now, Source: event.SourceServer},
				"no received_at": {EventID: "x", Status: store.DeliveryPending, Source: event.SourceServer},
				"no source":      {EventID: "x", Status: store.DeliveryPending, ReceivedAt: now},
			}
			for name, r := range bad {
				if _, err := f.Track(ctx, "shop", "meta", []store.Delivery{r}, store.FeedPosition{}); !errors.Is(err, store.ErrInvalidDelivery) {
					t.Errorf("Track of a record with %s = %v, want ErrInvalidDelivery", name, err)
				}
			}
			if err := f.Record(ctx, "shop", "meta", []store.Delivery{outcome("x", "delivered")}); !errors.Is(err, store.ErrInvalidDelivery) {
				t.Errorf("Record with an unknown status = %v, want ErrInvalidDelivery", err)
			}
			if _, err := f.ListDeliveries(ctx, "shop", "meta", "bogus", 10); !errors.Is(err, store.ErrInvalidDelivery) {
				t.Errorf("ListDeliveries with an unknown status = %v, want ErrInvalidDelivery", err)
			}
		})
	})
}

func feedOrder(t *testing.T, f fwd, now time.Time) {
	f.open("shop", "meta", now.Add(-time.Hour), false)
	if f.open("shop", "meta", now.Add(-time.Hour), false) {
		t.Error("a second OpenCursor created the cursor again")
	}
	// Insertion order, not received_at order: a later batch may carry an
	// earlier received_at.
	var want []string
	for b := range 4 {
		var batch []event.Event
		for i := range 5 {
			id := fmt.Sprintf("b%d-%d", b, i)
			batch = append(batch, Full("shop", id, now.Add(time.Duration(10-b)*time.Second)), Full("other", id, now))
			want = append(want, id)
		}
		mustInsert(t, f, batch, len(batch))
	}
	got := f.drain("shop", "meta", 3)
	assertStrings(t, "feed", got, want)
	// At the end, Feed returns the cursor's own position.
	events, pos := f.feed("shop", "meta", 10)
	if len(events) != 0 {
		t.Errorf("Feed at the end returned %d events", len(events))
	}
	mustInsert(t, f, []event.Event{Full("shop", "late", now)}, 1)
	f.track("shop", "meta", nil, pos)
	assertStrings(t, "feed after a later insert", f.drain("shop", "meta", 3), []string{"late"})
	if n := len(f.byID("shop", "meta")); n != len(want)+1 {
		t.Errorf("%d records, want %d", n, len(want)+1)
	}
}

func sinceStart(t *testing.T, f fwd, now time.Time) {
	mustInsert(t, f, []event.Event{Full("shop", "old", now.Add(-48*time.Hour)), Full("shop", "new", now)}, 2)
	if !f.open("shop", "meta", now.Add(-time.Hour), false) {
		t.Error("OpenCursor did not report the cursor created")
	}
	// An event stored after the cursor opened is fed, unless it was
	// received before since.
	mustInsert(t, f, []event.Event{Full("shop", "newer", now.Add(time.Second)), Full("shop", "old-late", now.Add(-30*time.Hour))}, 2)
	assertStrings(t, "feed", f.drain("shop", "meta", 10), []string{"new", "newer"})
}

func resetKeepsRecords(t *testing.T, f fwd, now time.Time) {
	f.open("shop", "meta", now, false)
	mustInsert(t, f, []event.Event{Full("shop", "a", now), Full("shop", "b", now), Full("shop", "c", now)}, 3)
	f.drain("shop", "meta", 10)
	f.record("shop", "meta", outcome("a", store.DeliverySent), outcome("b", store.DeliveryFailed))
	mustInsert(t, f, []event.Event{Full("shop", "early", now.Add(-2*time.Hour))}, 1)
	if f.open("shop", "meta", now.Add(-3*time.Hour), true) {
		t.Error("a reset reported the cursor created")
	}
	assertStrings(t, "backfill", f.drain("shop", "meta", 2), []string{"a", "b", "c", "early"})
	recs := f.byID("shop", "meta")
	for id, want := range map[string]string{"a": store.DeliverySent, "b": store.DeliveryFailed, "c": store.DeliveryPending, "early": store.DeliveryPending} {
		if recs[id].Status != want {
			t.Errorf("after the backfill %s is %q, want %q", id, recs[id].Status, want)
		}
	}
}

func trackIdempotent(t *testing.T, f fwd, now time.Time) {
	f.open("shop", "meta", now, false)
	mustInsert(t, f, []event.Event{Full("shop", "a", now), Full("shop", "b", now)}, 2)
	events, pos := f.feed("shop", "meta", 10)
	recs := pendingFor("meta", "Purchase", events)
	assertStrings(t, "first Track", sorted(f.track("shop", "meta", recs, pos)), []string{"a", "b"})
	f.record("shop", "meta", store.Delivery{EventID: "a", Status: store.DeliverySent, Attempts: 1, ResponseID: "r-1"})
	// A forwarder that crashed before learning that Track committed does
	// it again, with the same records (a repeated id in one call too):
	// nothing is tracked anew, so nothing is sent again.
	if again := f.track("shop", "meta", append(recs, recs[1]), pos); len(again) != 0 {
		t.Errorf("a repeated Track reports %v tracked, want none", again)
	}
	got := f.byID("shop", "meta")
	if len(got) != 2 || got["a"].Status != store.DeliverySent || got["a"].ResponseID != "r-1" || got["b"].Status != store.DeliveryPending {
		t.Errorf("after a repeated Track the records are %+v, want a sent (r-1) and b pending", got)
	}
	if st := f.stats("shop", "meta"); st.Pending != 1 || st.Counts[store.DeliverySent] != 1 {
		t.Errorf("stats after a repeated Track = %+v, want one pending, one sent", st)
	}
}

func supersededFedAgain(t *testing.T, f fwd, now time.Time) {
	f.open("shop", "meta", now.Add(-48*time.Hour), false)
	browser, server := browserAndServer("order-1", now.Add(-24*time.Hour), now)
	browser.RawIPSealed = []byte("sealed-browser-ip")
	mustInsert(t, f, []event.Event{browser, Full("shop", "other", now)}, 2)
	assertStrings(t, "feed", f.drain("shop", "meta", 10), []string{"order-1", "other"})
	f.record("shop", "meta", store.Delivery{EventID: "order-1", Status: store.DeliverySkipped, Reason: "no value", Attempts: 0})

	mustInsert(t, f, []event.Event{server}, 1)
	events, pos := f.feed("shop", "meta", 10)
	if len(events) != 1 || events[0].EventID != "order-1" || events[0].Source != event.SourceServer {
		t.Fatalf("after the server event the feed has %v, want the superseding server event", events)
	}
	assertStrings(t, "superseding Track", f.track("shop", "meta", pendingFor("meta", "Purchase2", events), pos), []string{"order-1"})
	rec := f.byID("shop", "meta")["order-1"]
	if rec.Status != store.DeliveryPending || rec.SendAs != "Purchase2" || rec.Reason != "" {
		t.Errorf("superseded event's record is %+v, want pending as Purchase2", rec)
	}
	due := f.due("shop", "meta", time.Now().Add(time.Minute), 10)
	want := store.Supersede(server, browser)
	want.RawIP = ""
	if len(due) != 2 || due[0].Event.EventID != "order-1" {
		t.Fatalf("Due returned %d records, want order-1 first and other", len(due))
	}
	assertSame(t, due[0].Event, want)

	// Fed again by a backfill, the server event keeps its record.
	f.record("shop", "meta", outcome("order-1", store.DeliverySent))
	f.open("shop", "meta", now.Add(-48*time.Hour), true)
	f.drain("shop", "meta", 10)
	if rec := f.byID("shop", "meta")["order-1"]; rec.Status != store.DeliverySent || rec.SendAs != "Purchase2" {
		t.Errorf("after a backfill the record is %+v, want it sent as Purchase2", rec)
	}
}

// supersededBeforeTrack is the race of a forwarder with a server event:
// the browser event is fed, then superseded before the forwarder tracks
// its decision about it. The record made for the browser event must still
// give way to the server event when that is fed.
func supersededBeforeTrack(t *testing.T, f fwd, now time.Time) {
	f.open("shop", "meta", now.Add(-48*time.Hour), false)
	browser, server := browserAndServer("order-1", now.Add(-time.Hour), now)
	mustInsert(t, f, []event.Event{browser}, 1)
	events, pos := f.feed("shop", "meta", 10)
	mustInsert(t, f, []event.Event{server}, 1)
	skipped := pendingFor("meta", "Purchase", events)
	skipped[0].Status, skipped[0].Reason = store.DeliverySkipped, "no value"
	f.track("shop", "meta", skipped, pos)

	events, pos = f.feed("shop", "meta", 10)
	if len(events) != 1 || events[0].Source != event.SourceServer {
		t.Fatalf("after the server event the feed has %d events, want the superseding server event", len(events))
	}
	f.track("shop", "meta", pendingFor("meta", "Purchase2", events), pos)
	if rec := f.byID("shop", "meta")["order-1"]; rec.Status != store.DeliveryPending || rec.SendAs != "Purchase2" {
		t.Errorf("record of the server event = %+v, want pending as Purchase2", rec)
	}
}

func dueOrder(t *testing.T, f fwd, now time.Time) {
	clock := time.Now()
	f.open("shop", "meta", now.Add(-time.Hour), false)
	var in []event.Event
	for i, d := range []time.Duration{2, 0, 1, 3} {
		e := Full("shop", fmt.Sprint("t", int(d)), now.Add(d*time.Second))
		e.RawIPSealed = []byte{byte(i), 0, 0xff, 'x'}
		e.User.EmailGoogleSHA256, e.User.PhoneE164SHA256 = "e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98", "0b9c2625dc21ef05f6ad4ddf47c5f203837aa32c"
		in = append(in, e)
	}
	mustInsert(t, f, in, len(in))
	f.drain("shop", "meta", 10)
	f.record("shop", "meta", store.Delivery{EventID: "t3", Status: store.DeliverySkipped, Reason: "consent"})

	due := f.due("shop", "meta", clock.Add(time.Minute), 10)
	assertIDs(t, dueEvents(due), "t0", "t1", "t2")
	for _, p := range due {
		for _, e := range in {
			if e.EventID == p.Event.EventID {
				assertSame(t, p.Event, e)
			}
		}
		if p.Delivery.Status != store.DeliveryPending || p.Delivery.SendAs != "Purchase" || !p.Delivery.ReceivedAt.Equal(p.Event.ReceivedAt) {
			t.Errorf("Due's record %+v does not match its event", p.Delivery)
		}
	}
	assertIDs(t, dueEvents(f.due("shop", "meta", clock.Add(time.Minute), 2)), "t0", "t1")

	retry := clock.Add(time.Hour).Truncate(time.Microsecond).UTC()
	f.record("shop", "meta", store.Delivery{EventID: "t0", Status: store.DeliveryPending, Reason: "timeout", Attempts: 1, NextAttemptAt: retry})
	assertIDs(t, dueEvents(f.due("shop", "meta", clock.Add(time.Minute), 10)), "t1", "t2")
	later := f.due("shop", "meta", retry, 10)
	assertIDs(t, dueEvents(later), "t0", "t1", "t2")
	if d := later[0].Delivery; d.Attempts != 1 || d.Reason != "timeout" || !d.NextAttemptAt.Equal(retry) {
		t.Errorf("retried record = %+v, want 1 attempt, reason timeout, next attempt %v", d, retry)
	}
}

func dueSkipsGone(t *testing.T, f fwd, now time.Time) {
	f.open("shop", "meta", now, false)
	mustInsert(t, f, []event.Event{Full("shop", "here", now)}, 1)
	events, pos := f.feed("shop", "meta", 10)
	here := pendingFor("meta", "Purchase", events)
	// A record whose event is gone, as retention or an erasure leaves it.
	recs := append(here,
		store.Delivery{EventID: "gone", Status: store.DeliveryPending, SendAs: "Purchase", ReceivedAt: now.Add(-time.Second), Source: event.SourceServer})
	f.track("shop", "meta", recs, pos)
	due := f.due("shop", "meta", time.Now().Add(time.Minute), 10)
	assertIDs(t, dueEvents(due), "here")
	if len(due) == 1 && !due[0].Delivery.ReceivedAt.Equal(due[0].Event.ReceivedAt) {
		t.Errorf("record's received_at %v, want its event's %v", due[0].Delivery.ReceivedAt, due[0].Event.ReceivedAt)
	}
	gone := f.byID("shop", "meta")["gone"]
	if gone.Status != store.DeliverySkipped || gone.Reason != "event deleted" {
		t.Errorf("record of a deleted event = %+v, want skipped (event deleted)", gone)
	}
}

func recordReplayStats(t *testing.T, f fwd, now time.Time) {
	f.open("shop", "meta", now.Add(-time.Hour), false)
	var in []event.Event
	for i, id := range ids("e", 6) {
		in = append(in, Full("shop", id, now.Add(time.Duration(i)*time.Second)))
	}
	mustInsert(t, f, in, len(in))
	f.drain("shop", "meta", 10)
	if st := f.stats("shop", "meta"); st.Pending != 6 || !st.OldestPending.Equal(in[0].ReceivedAt.Truncate(time.Microsecond)) {
		t.Errorf("stats = %+v, want 6 pending, oldest %v", st, in[0].ReceivedAt)
	}
	f.record("shop", "meta",
		store.Delivery{EventID: "e0", Status: store.DeliverySent, Attempts: 1, ResponseID: "fbtrace-0"},
		store.Delivery{EventID: "e1", Status: store.DeliveryFailed, Attempts: 5, Reason: "HTTP 400"},
		store.Delivery{EventID: "e2", Status: store.DeliveryFailed, Attempts: 5, Reason: "HTTP 400"},
		store.Delivery{EventID: "e3", Status: store.DeliveryFailed, Attempts: 2, Reason: "first"},
		store.Delivery{EventID: "e3", Status: store.DeliveryFailed, Attempts: 3, Reason: "HTTP 500"},
		store.Delivery{EventID: "e4", Status: store.DeliverySkipped, Reason: "no consent"},
		store.Delivery{EventID: "unknown", Status: store.DeliverySent},
	)
	recs := f.byID("shop", "meta")
	if d := recs["e0"]; d.Status != store.DeliverySent || d.Attempts != 1 || d.ResponseID != "fbtrace-0" {
		t.Errorf("e0 = %+v, want sent after 1 attempt as fbtrace-0", d)
	}
	if d := recs["e3"]; d.Status != store.DeliveryFailed || d.Attempts != 3 || d.Reason != "HTTP 500" {
		t.Errorf("e3 = %+v, want the last outcome: failed after 3 attempts, HTTP 500", d)
	}
	if _, ok := recs["unknown"]; ok || len(recs) != 6 {
		t.Errorf("Record created a record: %v", recs)
	}
	st := f.stats("shop", "meta")
	wantCounts := map[string]int64{store.DeliveryPending: 1, store.DeliverySent: 1, store.DeliveryFailed: 3, store.DeliverySkipped: 1}
	if st.Pending != 1 || !st.OldestPending.Equal(in[5].ReceivedAt.Truncate(time.Microsecond)) || fmt.Sprint(st.Counts) != fmt.Sprint(wantCounts) {
		t.Errorf("stats = %+v, want counts %v, oldest pending %v", st, wantCounts, in[5].ReceivedAt)
	}
	assertIDs(t, eventsOf(f.list("shop", "meta", store.DeliveryFailed)), "e1", "e2", "e3")

	n, err := f.Replay(context.Background(), "shop", "meta", "e3")
	if err != nil || n != 1 {
		t.Errorf("Replay(e3) = %d, %v; want 1", n, err)
	}
	if n, err := f.Replay(context.Background(), "shop", "meta", "e0"); err != nil || n != 0 {
		t.Errorf("Replay of a sent record = %d, %v; want 0", n, err)
	}
	if n, err := f.Replay(context.Background(), "shop", "meta", ""); err != nil || n != 2 {
		t.Errorf("Replay(all) = %d, %v; want 2", n, err)
	}
	due := f.due("shop", "meta", time.Now().Add(time.Minute), 10)
	assertIDs(t, dueEvents(due), "e1", "e2", "e3", "e5")
	for _, p := range due {
		if p.Delivery.Attempts != 0 {
			t.Errorf("replayed %s has %d attempts, want 0", p.Delivery.EventID, p.Delivery.Attempts)
		}
	}
	if st := f.stats("shop", "meta"); st.Counts[store.DeliveryFailed] != 0 || st.Pending != 4 {
		t.Errorf("stats after Replay = %+v, want 4 pending, none failed", st)
	}
	if st := f.stats("shop", "nobody"); st.Pending != 0 || !st.OldestPending.IsZero() {
		t.Errorf("stats of a destination without records = %+v", st)
	}
}

func forgetRawIPs(t *testing.T, f fwd, now time.Time) {
	ctx := context.Background()
	var in []event.Event
	for _, id := range []string{"a", "b", "c"} {
		e := Full("shop", id, now)
		e.RawIPSealed = []byte("sealed-" + id)
		in = append(in, e)
	}
	mustInsert(t, f, in, 3)
	for _, dest := range []string{"meta", "google"} {
		f.open("shop", dest, now, false)
		f.drain("shop", dest, 10)
	}
	// a: meta sent, google pending. b: both final. c: both final, but
	// named with no destinations.
	f.record("shop", "meta", outcome("a", store.DeliverySent), outcome("b", store.DeliverySent), outcome("c", store.DeliverySent))
	f.record("shop", "google", outcome("b", store.DeliveryFailed), outcome("c", store.DeliverySkipped))
	if err := f.ForgetRawIPs(ctx, "shop", []string{"a", "b"}, []string{"meta", "google", "meta"}); err != nil {
		t.Fatal(err)
	}
	if err := f.ForgetRawIPs(ctx, "shop", []string{"c"}, nil); err != nil {
		t.Fatal(err)
	}
	// Make every record pending again to read the sealed IPs through Due.
	for _, dest := range []string{"meta", "google"} {
		f.record("shop", dest, outcome("a", store.DeliveryPending), outcome("b", store.DeliveryPending), outcome("c", store.DeliveryPending))
	}
	sealed := map[string]string{}
	for _, p := range f.due("shop", "google", time.Now().Add(time.Minute), 10) {
		sealed[p.Event.EventID] = string(p.Event.RawIPSealed)
	}
	want := map[string]string{"a": "sealed-a", "b": "", "c": "sealed-c"}
	if fmt.Sprint(sealed) != fmt.Sprint(want) {
		t.Errorf("sealed IPs after ForgetRawIPs = %v, want %v", sealed, want)
	}
}

func orderConversion(t *testing.T, f fwd, now time.Time) {
	ctx := context.Background()
	sale := func(id, site, order string, value *float64, at time.Duration) event.Event {
		e := Full(site, id, now.Add(at))
		e.OrderID, e.Value = order, value
		return e
	}
	v := func(x float64) *float64 { return &x }
	mustInsert(t, f, []event.Event{
		sale("first", "shop", "o-1", v(100), 0),
		sale("newest", "shop", "o-1", v(120), time.Second),
		sale("refund", "shop", "o-1", v(-50), 2*time.Second),
		sale("no-value", "shop", "o-1", nil, 3*time.Second),
		sale("zero", "shop", "o-2", v(0), 0),
		sale("elsewhere", "other", "o-1", v(999), 4*time.Second),
	}, 6)
	tests := []struct {
		site, order, want string
	}{
		{"shop", "o-1", "newest"},
		{"shop", "o-2", ""},
		{"shop", "o-3", ""},
		{"shop", "", ""},
		{"other", "o-1", "elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.site+"/"+tt.order, func(t *testing.T) {
			e, ok, err := f.OrderConversion(ctx, tt.site, tt.order)
			if err != nil || ok != (tt.want != "") || e.EventID != tt.want {
				t.Errorf("OrderConversion = %q, %v, %v; want %q", e.EventID, ok, err, tt.want)
			}
		})
	}
	e, _, _ := f.OrderConversion(ctx, "shop", "o-1")
	assertSame(t, e, sale("newest", "shop", "o-1", v(120), time.Second))
}

func isolation(t *testing.T, f fwd, now time.Time) {
	ctx := context.Background()
	for _, site := range []string{"a", "b"} {
		for _, dest := range []string{"x", "y"} {
			f.open(site, dest, now, false)
		}
	}
	mustInsert(t, f, []event.Event{Full("a", "a1", now), Full("b", "b1", now), Full("a", "a2", now), Full("b", "b2", now)}, 4)
	assertStrings(t, "feed of a/x", f.drain("a", "x", 10), []string{"a1", "a2"})
	// a/y has fed nothing: a/x's cursor and records are its own.
	if got := f.list("a", "y", ""); len(got) != 0 {
		t.Errorf("a/y lists %d records of a/x", len(got))
	}
	if got := f.due("a", "y", time.Now().Add(time.Minute), 10); len(got) != 0 {
		t.Errorf("a/y has %d due records of a/x", len(got))
	}
	if got := f.due("b", "x", time.Now().Add(time.Minute), 10); len(got) != 0 {
		t.Errorf("b/x has %d due records of a/x", len(got))
	}
	// Writes through one destination leave the others' records alone.
	f.record("a", "y", outcome("a1", store.DeliveryFailed))
	f.record("b", "x", outcome("a1", store.DeliveryFailed))
	if n, err := f.Replay(ctx, "b", "x", ""); err != nil || n != 0 {
		t.Errorf("Replay on b/x = %d, %v; want 0", n, err)
	}
	if got := f.byID("a", "x"); got["a1"].Status != store.DeliveryPending || len(got) != 2 {
		t.Errorf("a/x records changed by other destinations: %+v", got)
	}
	assertStrings(t, "feed of b/x", f.drain("b", "x", 1), []string{"b1", "b2"})
	assertStrings(t, "feed of a/y", f.drain("a", "y", 10), []string{"a1", "a2"})
	if st := f.stats("a", "x"); st.Pending != 2 {
		t.Errorf("a/x stats = %+v, want 2 pending", st)
	}
}

// reclaimLeases: records tracked with a lease are not due until reclaimed;
// Reclaim leaves alone what was attempted (a retry's wait) and other
// destinations' records.
func reclaimLeases(t *testing.T, f fwd, now time.Time) {
	f.open("shop", "meta", now.Add(-time.Hour), false)
	f.open("shop", "ga4", now.Add(-time.Hour), false)
	mustInsert(t, f, []event.Event{Full("shop", "leased", now), Full("shop", "retry", now.Add(time.Second))}, 2)
	lease := time.Now().Add(10 * time.Minute)
	for _, dest := range []string{"meta", "ga4"} {
		events, pos := f.feed("shop", dest, 10)
		recs := pendingFor(dest, "Purchase", events)
		for i := range recs {
			recs[i].NextAttemptAt = lease
		}
		f.track("shop", dest, recs, pos)
	}
	f.record("shop", "meta", store.Delivery{EventID: "retry", Status: store.DeliveryPending, Reason: "503", Attempts: 1, NextAttemptAt: lease})
	if due := f.due("shop", "meta", time.Now(), 10); len(due) != 0 {
		t.Fatalf("leased records are due: %v", dueEvents(due))
	}
	n, err := f.Reclaim(context.Background(), "shop", "meta", time.Now())
	if err != nil || n != 1 {
		t.Fatalf("Reclaim = %d, %v; want 1 (the leased, never attempted record)", n, err)
	}
	assertIDs(t, dueEvents(f.due("shop", "meta", time.Now(), 10)), "leased")
	if due := f.due("shop", "ga4", time.Now(), 10); len(due) != 0 {
		t.Errorf("reclaiming meta's records made ga4's due: %v", dueEvents(due))
	}
}

func sorted(ids []string) []string {
	out := append([]string(nil), ids...)
	slices.Sort(out)
	return out
}

// deliveryDays: records counted per UTC day of their event and status,
// only in the range, only the destination's.
func deliveryDays(t *testing.T, f fwd) {
	day1 := time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC)
	f.open("shop", "meta", day1.Add(-time.Hour), false)
	f.open("shop", "ga4", day1.Add(-time.Hour), false)
	mustInsert(t, f, []event.Event{
		Full("shop", "a", day1), Full("shop", "b", day1.Add(20*time.Minute)), // 23:30 and 23:50 on May 1
		Full("shop", "c", day1.Add(40*time.Minute)), Full("shop", "late", day1.Add(48*time.Hour)), // 00:10 on May 2
	}, 4)
	f.drain("shop", "meta", 10)
	f.drain("shop", "ga4", 10)
	f.record("shop", "meta", outcome("a", store.DeliverySent), outcome("b", store.DeliveryFailed), outcome("c", store.DeliverySent))
	got, err := f.DeliveryDays(context.Background(), "shop", "meta", day1.Add(-time.Hour), day1.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range got {
		lines = append(lines, fmt.Sprintf("%s sent=%d failed=%d pending=%d", d.Day, d.Counts[store.DeliverySent], d.Counts[store.DeliveryFailed], d.Counts[store.DeliveryPending]))
	}
	want := []string{"2026-05-01 sent=1 failed=1 pending=0", "2026-05-02 sent=1 failed=0 pending=0"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("DeliveryDays = %v, want %v (late is outside the range; ga4's records are not meta's)", lines, want)
	}
}
