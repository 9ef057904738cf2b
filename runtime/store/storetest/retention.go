package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// retainer is a store with retention, erasure and deliveries.
type retainer interface {
	forwarding
	store.Retention
	store.Erasure
	store.Analytics
}

func asRetainer(t *testing.T, s store.Store) retainer {
	t.Helper()
	r, ok := s.(retainer)
	if !ok {
		t.Fatalf("%T does not implement store.Retention, store.Erasure, store.Deliveries and store.Analytics", s)
	}
	return r
}

// The retention fixture: "shop" has one event a day for 120 days, "other"
// one a day for 60 days and one on day 100, so on PostgreSQL most of
// shop's expired days are partitions of its own and day 100 is shared.
const (
	retentionDays = 120
	maxAgeDays    = 90
	piiDays       = 60
	ipDays        = 30
	rawIP         = "203.0.113.77"
	anonIP        = "203.0.113.0"
)

func retentionNow() time.Time { return time.Date(2026, 6, 15, 10, 30, 0, 0, time.UTC) }

func otherHasDay(d int) bool { return d < 60 || d == 100 }

func dayEvent(site string, d int) event.Event {
	e := Full(site, fmt.Sprintf("%s-d%03d", site, d), retentionNow().AddDate(0, 0, -d))
	e.IP = rawIP
	e.RawIPSealed = []byte("sealed-" + e.EventID)
	e.VisitorID = fmt.Sprintf("v-%s-%d", site, d%7)
	e.SessionID = fmt.Sprintf("s-%s-%d", site, d)
	return e
}

// seedRetention stores the fixture and a pending delivery record for
// every event, for the destination "meta".
func seedRetention(t *testing.T, r retainer) {
	t.Helper()
	var in []event.Event
	for d := range retentionDays {
		in = append(in, dayEvent("shop", d))
		if otherHasDay(d) {
			in = append(in, dayEvent("other", d))
		}
	}
	mustInsert(t, r, in, len(in))
	f := fwd{t: t, forwarding: r}
	for _, site := range []string{"shop", "other"} {
		f.open(site, "meta", retentionNow().AddDate(0, 0, -retentionDays-1), false)
		f.drain(site, "meta", 500)
	}
}

func fixturePlan() store.RetentionPlan {
	now := retentionNow()
	return store.RetentionPlan{
		Site:              "shop",
		DeleteBefore:      now.AddDate(0, 0, -maxAgeDays),
		AnonymizeIPBefore: now.AddDate(0, 0, -ipDays),
		ClearPIIBefore:    now.AddDate(0, 0, -piiDays),
		AnonymizeIP:       func(ip string) string { return strings.Replace(ip, ".77", ".0", 1) },
		BatchSize:         7,
	}
}

// What the fixture plan changes: days after 90 go; days after 30 lose the
// raw IP; days after 60 lose their matching data (a day exactly at a
// cutoff is not before it).
var fixtureCounts = store.RetentionCounts{
	EventsDeleted: retentionDays - maxAgeDays - 1, KeysDeleted: retentionDays - maxAgeDays - 1,
	DeliveriesDeleted: retentionDays - maxAgeDays - 1,
	IPsAnonymized:     maxAgeDays - ipDays, PIICleared: maxAgeDays - piiDays,
}

// runRetention checks retention (store.Retention).
func runRetention(t *testing.T, fresh func(t *testing.T) store.Store) {
	t.Run("Retention", func(t *testing.T) {
		t.Run("ExpectedRowsRemain", func(t *testing.T) { retentionExpected(t, fresh) })
		t.Run("DryRunChangesNothing", func(t *testing.T) { retentionDryRun(t, asRetainer(t, fresh(t))) })
		t.Run("KilledMidwayRunAgain", func(t *testing.T) { retentionKilled(t, asRetainer(t, fresh(t))) })
		t.Run("SecondRunChangesNothing", func(t *testing.T) { retentionTwice(t, asRetainer(t, fresh(t))) })
		t.Run("RunsRecorded", func(t *testing.T) { retentionRuns(t, asRetainer(t, fresh(t))) })
	})
	t.Run("Erasure", func(t *testing.T) {
		for _, kind := range []string{store.KeyVisitorID, store.KeyUserID, store.KeyEmail, store.KeyOrderID} {
			t.Run(kind, func(t *testing.T) { erasureLeavesOthers(t, asRetainer(t, fresh(t)), kind) })
		}
		t.Run("DryRun", func(t *testing.T) { erasureDryRun(t, asRetainer(t, fresh(t))) })
		t.Run("BadRequests", func(t *testing.T) { erasureBadRequests(t, asRetainer(t, fresh(t))) })
	})
}

func applyRetention(t *testing.T, r retainer, plan store.RetentionPlan) store.RetentionCounts {
	t.Helper()
	got, err := r.ApplyRetention(context.Background(), plan)
	if err != nil {
		t.Fatalf("ApplyRetention: %v", err)
	}
	return got
}

// withoutPartitions compares counts whatever the store dropped whole.
func withoutPartitions(c store.RetentionCounts) store.RetentionCounts {
	c.PartitionsDropped = 0
	return c
}

func retentionExpected(t *testing.T, fresh func(t *testing.T) store.Store) {
	r := asRetainer(t, fresh(t))
	seedRetention(t, r)
	got := applyRetention(t, r, fixturePlan())
	if withoutPartitions(got) != fixtureCounts {
		t.Errorf("ApplyRetention = %+v, want %+v", got, fixtureCounts)
	}
	assertRetained(t, r)
	assertAnalyticsMatch(t, r, asRetainer(t, fresh(t)))
}

// assertRetained checks every stored row of the fixture after the plan.
func assertRetained(t *testing.T, r retainer) {
	t.Helper()
	shop := byEventID(mustRecent(t, r, "shop", 1000))
	if len(shop) != maxAgeDays+1 {
		t.Errorf("shop keeps %d events, want %d", len(shop), maxAgeDays+1)
	}
	for d := range retentionDays {
		want := dayEvent("shop", d)
		got, ok := shop[want.EventID]
		switch {
		case d > maxAgeDays:
			if ok {
				t.Errorf("event of day %d survived", d)
			}
			continue
		case !ok:
			t.Errorf("event of day %d was deleted", d)
			continue
		}
		if d > ipDays {
			want.IP = anonIP
		}
		if d > piiDays {
			want.UserID, want.User, want.FBP, want.FBC, want.GAClientID = "", event.User{}, "", "", ""
		}
		want.RawIPSealed = nil
		assertSame(t, got, want)
	}
	other := mustRecent(t, r, "other", 1000)
	if len(other) != 61 {
		t.Errorf("other keeps %d events, want all 61", len(other))
	}
	for _, e := range other {
		if e.IP != rawIP || e.UserID == "" {
			t.Errorf("event %s of the other site changed: ip %q, user %q", e.EventID, e.IP, e.UserID)
		}
	}
	assertDeliveries(t, r, maxAgeDays+1, 61)
	assertSealed(t, r, func(d int) bool { return d <= ipDays })
}

func byEventID(events []event.Event) map[string]event.Event {
	out := map[string]event.Event{}
	for _, e := range events {
		out[e.EventID] = e
	}
	return out
}

// assertDeliveries counts each site's delivery records for "meta".
func assertDeliveries(t *testing.T, r retainer, shop, other int) {
	t.Helper()
	f := fwd{t: t, forwarding: r}
	if n := len(f.list("shop", "meta", "")); n != shop {
		t.Errorf("shop has %d delivery records, want %d", n, shop)
	}
	if n := len(f.list("other", "meta", "")); n != other {
		t.Errorf("other has %d delivery records, want %d", n, other)
	}
}

// assertSealed reads the sealed IPs through Due (every record is pending)
// and checks which days of shop still have one.
func assertSealed(t *testing.T, r retainer, keeps func(day int) bool) {
	t.Helper()
	f := fwd{t: t, forwarding: r}
	for _, p := range f.due("shop", "meta", retentionNow().Add(time.Hour), 1000) {
		var d int
		fmt.Sscanf(strings.TrimPrefix(p.Event.EventID, "shop-d"), "%d", &d)
		if has := len(p.Event.RawIPSealed) > 0; has != keeps(d) {
			t.Errorf("event of day %d has a sealed IP: %v, want %v", d, has, keeps(d))
		}
	}
}

// assertAnalyticsMatch checks that the dashboard's numbers after retention
// equal those of a store that only ever held the surviving events.
func assertAnalyticsMatch(t *testing.T, r, clean retainer) {
	t.Helper()
	mustInsert(t, clean, mustRecent(t, r, "shop", 1000), maxAgeDays+1)
	q := store.Query{Site: "shop", From: retentionNow().AddDate(0, 0, -retentionDays-1), To: retentionNow().Add(time.Hour), Location: time.UTC}
	got, err := r.Totals(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	want, err := clean.Totals(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Totals after retention = %+v, want those of the surviving events %+v", got, want)
	}
}

func retentionDryRun(t *testing.T, r retainer) {
	seedRetention(t, r)
	before := mustRecent(t, r, "shop", 1000)
	plan := fixturePlan()
	plan.DryRun = true
	dry := applyRetention(t, r, plan)
	if again := applyRetention(t, r, plan); again != dry {
		t.Errorf("a second dry run counts %+v, the first %+v", again, dry)
	}
	if !reflect.DeepEqual(mustRecent(t, r, "shop", 1000), before) {
		t.Error("a dry run changed the stored events")
	}
	assertDeliveries(t, r, retentionDays, 61)
	assertSealed(t, r, func(int) bool { return true })
	plan.DryRun = false
	if real := applyRetention(t, r, plan); real != dry {
		t.Errorf("the run changed %+v, its dry run said %+v", real, dry)
	}
}

func retentionKilled(t *testing.T, r retainer) {
	seedRetention(t, r)
	var total store.RetentionCounts
	// Stop each run after its second batch, until a run completes.
	for run := 1; ; run++ {
		ctx, cancel := context.WithCancel(context.Background())
		plan := fixturePlan()
		batches := 0
		plan.Progress = func(string, int64) {
			if batches++; batches == 2 {
				cancel()
			}
		}
		got, err := r.ApplyRetention(ctx, plan)
		cancel()
		total.Add(got)
		if err == nil {
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: %v", run, err)
		}
		if run > 100 {
			t.Fatal("retention never finished")
		}
	}
	if withoutPartitions(total) != fixtureCounts {
		t.Errorf("interrupted runs changed %+v in all, want %+v", total, fixtureCounts)
	}
	assertRetained(t, r)
}

func retentionTwice(t *testing.T, r retainer) {
	seedRetention(t, r)
	applyRetention(t, r, fixturePlan())
	if again := applyRetention(t, r, fixturePlan()); again != (store.RetentionCounts{}) {
		t.Errorf("a second run changed %+v", again)
	}
	assertRetained(t, r)
}

func retentionRuns(t *testing.T, r retainer) {
	ctx := context.Background()
	if _, ok, err := r.LastRetentionRun(ctx, "shop"); err != nil || ok {
		t.Fatalf("LastRetentionRun of a new store = %v, %v; want none", ok, err)
	}
	now := retentionNow()
	for i, run := range []store.RetentionRun{
		{Site: "shop", Policy: "daily", StartedAt: now, FinishedAt: now.Add(time.Second), Summary: []byte(`{"n":1}`)},
		{Site: "shop", Policy: "daily", StartedAt: now.Add(time.Hour), FinishedAt: now.Add(time.Hour + time.Second), Error: "boom", Summary: []byte(`{"n":2}`)},
		{Site: "other", Policy: "p", StartedAt: now.Add(2 * time.Hour), FinishedAt: now.Add(2 * time.Hour), Summary: []byte(`{}`)},
	} {
		if err := r.RecordRetentionRun(ctx, run); err != nil {
			t.Fatalf("RecordRetentionRun %d: %v", i, err)
		}
	}
	got, ok, err := r.LastRetentionRun(ctx, "shop")
	if err != nil || !ok {
		t.Fatalf("LastRetentionRun = %v, %v", ok, err)
	}
	if got.Error != "boom" || !got.StartedAt.Equal(now.Add(time.Hour)) || !strings.Contains(string(got.Summary), "2") {
		t.Errorf("LastRetentionRun = %+v, want the second run", got)
	}
}

// The erasure fixture: person A used two devices (visitor ids a1 and a2),
// signed in as user u-a on both, and placed order o-a on a2; a server
// event of the order carries the user id but no visitor id. Person B
// shares nothing with A.
func erasureFixture(t *testing.T, r retainer) {
	t.Helper()
	now := retentionNow()
	mk := func(id, visitor, user, order string, d int) event.Event {
		e := Full("shop", id, now.AddDate(0, 0, -d))
		e.VisitorID, e.UserID, e.OrderID = visitor, user, order
		e.User = event.User{}
		return e
	}
	a1 := mk("a1-view", "v-a1", "", "", 20)
	a1login := mk("a1-login", "v-a1", "u-a", "", 19)
	a2 := mk("a2-login", "v-a2", "u-a", "", 3)
	a2order := mk("a2-order", "v-a2", "", "o-a", 2)
	a2order.User.EmailSHA256 = emailA
	server := mk("a-server", "", "u-a", "o-a", 2)
	server.User.EmailSHA256 = emailA
	b := mk("b-view", "v-b", "u-b", "o-b", 2)
	b.User.EmailSHA256 = emailB
	mustInsert(t, r, []event.Event{a1, a1login, a2, a2order, server, b}, 6)
	other := mk("x", "v-a1", "u-a", "o-a", 1)
	other.Site = "other"
	mustInsert(t, r, []event.Event{other}, 1)
	f := fwd{t: t, forwarding: r}
	f.open("shop", "meta", now.AddDate(0, 0, -30), false)
	f.drain("shop", "meta", 100)
}

const (
	emailA = "1111111111111111111111111111111111111111111111111111111111111111"
	emailB = "2222222222222222222222222222222222222222222222222222222222222222"
)

// personAKey names person A by each kind of key.
var personAKey = map[string]string{
	store.KeyVisitorID: "v-a1", store.KeyUserID: "u-a", store.KeyEmail: emailA, store.KeyOrderID: "o-a",
}

func requestErasure(t *testing.T, r retainer, kind, key string, suppress bool) int64 {
	t.Helper()
	id, err := r.RequestErasure(context.Background(), store.ErasureRequest{Site: "shop", RequestedAt: retentionNow(),
		RequestedBy: "admin", KeyKind: kind, Key: key, Suppress: suppress})
	if err != nil {
		t.Fatalf("RequestErasure(%s): %v", kind, err)
	}
	return id
}

func erasureLeavesOthers(t *testing.T, r retainer, kind string) {
	ctx := context.Background()
	erasureFixture(t, r)
	id := requestErasure(t, r, kind, personAKey[kind], true)
	pending, err := r.PendingErasures(ctx, "shop")
	if err != nil || len(pending) != 1 || pending[0].Key != personAKey[kind] {
		t.Fatalf("PendingErasures = %+v, %v; want the request with its key", pending, err)
	}
	got, err := r.RunErasure(ctx, "shop", id, retentionNow().Add(time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	// Every one of A's events goes, whichever key named A: both devices,
	// stitched by the user id, and the order's server event.
	want := store.ErasureResult{EventsDeleted: 5, KeysDeleted: 5, DeliveriesDeleted: 5, Visitors: 2, Users: 1}
	got.Suppressed = 0
	if got != want {
		t.Errorf("RunErasure = %+v, want %+v", got, want)
	}
	assertIDs(t, mustRecent(t, r, "shop", 100), "b-view")
	assertIDs(t, mustRecent(t, r, "other", 100), "x")
	f := fwd{t: t, forwarding: r}
	if recs := f.list("shop", "meta", ""); len(recs) != 1 || recs[0].EventID != "b-view" {
		t.Errorf("delivery records after the erasure: %+v, want only b-view's", recs)
	}
	list, err := r.ListErasures(ctx, "shop", 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListErasures = %+v, %v", list, err)
	}
	if e := list[0]; e.Key != "" || e.CompletedAt.IsZero() || e.RowsRemoved != 5 || e.KeyKind != kind || e.RequestedBy != "admin" {
		t.Errorf("audit record = %+v, want completed, 5 rows, kind %s, no key", e, kind)
	}
	assertSuppressed(t, r, kind)
	if again, err := r.RunErasure(ctx, "shop", id, retentionNow(), false); err != nil || again != (store.ErasureResult{}) {
		t.Errorf("running a completed erasure again = %+v, %v; want nothing done", again, err)
	}
	if p, _ := r.PendingErasures(ctx, "shop"); len(p) != 0 {
		t.Errorf("still pending: %+v", p)
	}
}

// assertSuppressed checks that both of A's visitor ids and the user id are
// suppressed, by digest, and nothing of B.
func assertSuppressed(t *testing.T, r retainer, kind string) {
	t.Helper()
	got, err := r.Suppressions(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range got {
		keys = append(keys, s.Kind+":"+s.KeyHash)
	}
	sort.Strings(keys)
	want := []string{"user_id:" + store.SuppressionHash("u-a"), "visitor_id:" + store.SuppressionHash("v-a1"), "visitor_id:" + store.SuppressionHash("v-a2")}
	if kind == store.KeyEmail {
		want = append(want, "email:"+emailA)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("Suppressions = %v, want %v", keys, want)
	}
}

func erasureDryRun(t *testing.T, r retainer) {
	ctx := context.Background()
	erasureFixture(t, r)
	before := mustRecent(t, r, "shop", 100)
	id := requestErasure(t, r, store.KeyUserID, "u-a", true)
	got, err := r.RunErasure(ctx, "shop", id, retentionNow(), true)
	if err != nil {
		t.Fatal(err)
	}
	if got.EventsDeleted != 5 || got.Visitors != 2 || got.Users != 1 {
		t.Errorf("dry run = %+v, want 5 events of 2 visitors and 1 user", got)
	}
	if !reflect.DeepEqual(mustRecent(t, r, "shop", 100), before) {
		t.Error("a dry run deleted events")
	}
	if p, _ := r.PendingErasures(ctx, "shop"); len(p) != 1 {
		t.Errorf("after a dry run the request should still be pending, got %+v", p)
	}
	if s, _ := r.Suppressions(ctx, "shop"); len(s) != 0 {
		t.Errorf("a dry run suppressed %+v", s)
	}
}

func erasureBadRequests(t *testing.T, r retainer) {
	ctx := context.Background()
	for _, req := range []store.ErasureRequest{
		{Site: "", KeyKind: store.KeyVisitorID, Key: "v"},
		{Site: "shop", KeyKind: "ip", Key: "1.2.3.4"},
		{Site: "shop", KeyKind: store.KeyUserID, Key: ""},
	} {
		if _, err := r.RequestErasure(ctx, req); err == nil {
			t.Errorf("RequestErasure(%+v) succeeded", req)
		}
	}
	if _, err := r.RunErasure(ctx, "shop", 424242, retentionNow(), false); !errors.Is(err, store.ErrErasureNotFound) {
		t.Errorf("RunErasure of an unknown id: %v, want ErrErasureNotFound", err)
	}
	id := requestErasure(t, r, store.KeyVisitorID, "v-a1", false)
	if _, err := r.RunErasure(ctx, "other", id, retentionNow(), false); !errors.Is(err, store.ErrErasureNotFound) {
		t.Errorf("another site ran shop's erasure: %v", err)
	}
}
