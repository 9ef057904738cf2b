package forward

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// scripted is a platform whose answers the test decides; it records what
// it was sent.
type scripted struct {
	mu      sync.Mutex
	max     int
	batches [][]Item
	// answer decides each call's answer; nil sends everything.
	answer func(call int, items []Item) ([]Outcome, error)
}

func (p *scripted) MaxBatch() int { return p.max }

func (p *scripted) Send(_ context.Context, items []Item) ([]Outcome, error) {
	p.mu.Lock()
	call := len(p.batches)
	p.batches = append(p.batches, append([]Item(nil), items...))
	answer := p.answer
	p.mu.Unlock()
	if answer != nil {
		return answer(call, items)
	}
	out := make([]Outcome, len(items))
	for i, it := range items {
		out[i] = Outcome{Status: Sent, ResponseID: "resp-" + it.Event.EventID}
	}
	return out, nil
}

func (p *scripted) sent() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := map[string]int{}
	for _, b := range p.batches {
		for _, it := range b {
			n[it.Event.EventID]++
		}
	}
	return n
}

// clock is a test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

type fixture struct {
	st    *sqlite.Store
	eng   *Engine
	p     *scripted
	clock *clock
}

func newFixture(t *testing.T, p *scripted, consent []string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	m, err := NewMapping(nil, map[string]string{"purchase": "Purchase", "lead": "Lead"}, consent)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(Options{
		Site: "shop", Destination: "ads", Platform: p, Mapping: m, Store: st,
		Now: c.now, MaxWait: time.Second, Concurrency: 2, MaxAttempts: 3,
		BackoffBase: time.Second, BackoffMax: time.Minute, AuthRetry: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpenCursor(ctx, "shop", "ads", c.t.Add(-time.Hour), false); err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, eng: eng, p: p, clock: c}
}

// insert stores n events of name, received a minute before the clock.
func (f *fixture) insert(t *testing.T, name string, n int, mutate ...func(*event.Event)) []string {
	t.Helper()
	var evs []event.Event
	var ids []string
	for i := range n {
		v := 10.0 + float64(i)
		e := event.Event{
			Site: "shop", EventID: fmt.Sprintf("%s-%d-%d", name, len(f.p.batches), i), Type: event.TypeConversion, Name: name,
			Source: event.SourceServer, Timestamp: f.clock.t.Add(-time.Minute), ReceivedAt: f.clock.t.Add(-time.Minute),
			Value: &v, Currency: "EUR", URL: "https://shop.example.com/done", UserAgent: "UA",
			Consent: event.Consent{AdUserData: event.Granted},
		}
		for _, m := range mutate {
			m(&e)
		}
		evs = append(evs, e)
		ids = append(ids, e.EventID)
	}
	if _, err := f.st.Insert(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	return ids
}

// step runs the feed and one send round.
func (f *fixture) step(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	if _, err := f.eng.feedOnce(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := f.eng.sendRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) records(t *testing.T) map[string]store.Delivery {
	t.Helper()
	list, err := f.st.ListDeliveries(context.Background(), "shop", "ads", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]store.Delivery{}
	for _, d := range list {
		m[d.EventID] = d
	}
	return m
}

func TestEngineSendsMappedEventsInBatches(t *testing.T) {
	p := &scripted{max: 4}
	f := newFixture(t, p, nil)
	ids := f.insert(t, "purchase", 10)
	f.insert(t, "pageview", 5) // not in the mapping: never sent, no record

	if n := f.step(t); n != 8 {
		t.Fatalf("first round sent %d, want 8 (2 concurrent batches of 4)", n)
	}
	f.step(t)
	for i, b := range p.batches {
		if len(b) > 4 {
			t.Errorf("batch %d has %d items, platform max is 4", i, len(b))
		}
		for _, it := range b {
			if it.Name != "Purchase" {
				t.Errorf("sent as %q, want Purchase", it.Name)
			}
		}
	}
	sent := p.sent()
	recs := f.records(t)
	if len(recs) != len(ids) {
		t.Fatalf("%d records, want %d (pageviews get none)", len(recs), len(ids))
	}
	for _, id := range ids {
		if sent[id] != 1 {
			t.Errorf("%s sent %d times, want once", id, sent[id])
		}
		if r := recs[id]; r.Status != store.DeliverySent || r.ResponseID != "resp-"+id || r.Attempts != 1 {
			t.Errorf("%s record %+v, want sent once with its response id", id, r)
		}
	}
}

func TestEnginePartialBatchWaitsMaxWait(t *testing.T) {
	p := &scripted{max: 100}
	f := newFixture(t, p, nil)
	f.insert(t, "purchase", 3, func(e *event.Event) { e.ReceivedAt = f.clock.t })
	if n := f.step(t); n != 0 {
		t.Fatalf("a partial batch younger than MaxWait was sent (%d)", n)
	}
	f.clock.advance(time.Second)
	if n := f.step(t); n != 3 {
		t.Fatalf("after MaxWait the partial batch sent %d, want 3", n)
	}
}

func TestEngineSkipsWithoutConsent(t *testing.T) {
	p := &scripted{max: 10}
	f := newFixture(t, p, []string{"ad_user_data"})
	granted := f.insert(t, "purchase", 1)
	denied := f.insert(t, "purchase", 1, func(e *event.Event) { e.EventID = "denied"; e.Consent.AdUserData = event.Denied })
	unset := f.insert(t, "purchase", 1, func(e *event.Event) { e.EventID = "unset"; e.Consent = event.Consent{} })
	f.step(t)
	sent, recs := p.sent(), f.records(t)
	if sent[granted[0]] != 1 || sent[denied[0]] != 0 || sent[unset[0]] != 0 {
		t.Fatalf("sent %v: only the granted event may go", sent)
	}
	for id, want := range map[string]string{denied[0]: "consent ad_user_data denied", unset[0]: "consent ad_user_data not signalled"} {
		if r := recs[id]; r.Status != store.DeliverySkipped || r.Reason != want {
			t.Errorf("%s: %+v, want skipped with %q", id, r, want)
		}
	}
}

func TestEngineRetriesThenGivesUp(t *testing.T) {
	p := &scripted{max: 10, answer: func(int, []Item) ([]Outcome, error) {
		return nil, &Error{Kind: Transient, Status: 503, Message: "busy", RetryAfter: 30 * time.Second}
	}}
	f := newFixture(t, p, nil)
	id := f.insert(t, "purchase", 1)[0]
	f.step(t)
	r := f.records(t)[id]
	if r.Status != store.DeliveryPending || r.Attempts != 1 {
		t.Fatalf("after a 503: %+v, want pending with 1 attempt", r)
	}
	if wait := r.NextAttemptAt.Sub(f.clock.t); wait < 30*time.Second {
		t.Fatalf("next attempt in %s, but the platform asked for 30s", wait)
	}
	if n := f.step(t); n != 0 {
		t.Fatal("retried before its next attempt was due")
	}
	for range 2 {
		f.clock.advance(2 * time.Minute)
		f.step(t)
	}
	r = f.records(t)[id]
	if r.Status != store.DeliveryFailed || r.Attempts != 3 {
		t.Fatalf("after MaxAttempts: %+v, want failed after 3", r)
	}
	if n, err := f.st.Replay(context.Background(), "shop", "ads", id); err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	p.answer = nil
	f.step(t)
	if r := f.records(t)[id]; r.Status != store.DeliverySent {
		t.Fatalf("after replay: %+v, want sent", r)
	}
}

func TestEnginePerItemOutcomes(t *testing.T) {
	p := &scripted{max: 10, answer: func(_ int, items []Item) ([]Outcome, error) {
		out := make([]Outcome, len(items))
		for i := range items {
			out[i] = Outcome{Status: Sent}
			if i == 1 {
				out[i] = Outcome{Status: Failed, Reason: "bad currency"}
			}
		}
		return out, nil
	}}
	f := newFixture(t, p, nil)
	ids := f.insert(t, "purchase", 3)
	f.step(t)
	recs := f.records(t)
	if recs[ids[0]].Status != store.DeliverySent || recs[ids[2]].Status != store.DeliverySent {
		t.Errorf("good events not sent: %+v", recs)
	}
	if r := recs[ids[1]]; r.Status != store.DeliveryFailed || r.Reason != "bad currency" {
		t.Errorf("rejected event: %+v", r)
	}
}

func TestEngineAuthFailureMakesItUnready(t *testing.T) {
	p := &scripted{max: 10, answer: func(int, []Item) ([]Outcome, error) {
		return nil, &Error{Kind: Auth, Status: 401, Message: "Invalid OAuth access token"}
	}}
	f := newFixture(t, p, nil)
	id := f.insert(t, "purchase", 1)[0]
	f.step(t)
	err := f.eng.Ready(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Invalid OAuth access token") {
		t.Fatalf("Ready after a 401: %v, want the platform's message", err)
	}
	r := f.records(t)[id]
	if r.Status != store.DeliveryPending || r.Attempts != 0 {
		t.Fatalf("after a 401: %+v, want pending, no attempt counted", r)
	}
	p.answer = nil
	f.clock.advance(time.Minute)
	f.step(t)
	if err := f.eng.Ready(context.Background()); err != nil {
		t.Fatalf("Ready after the credentials work again: %v", err)
	}
	if r := f.records(t)[id]; r.Status != store.DeliverySent {
		t.Fatalf("%+v, want sent once the credentials work", r)
	}
}

// newEngine builds a second engine on the fixture's store, as a restarted
// forwarder would be.
func (f *fixture) newEngine(t *testing.T, p Platform) *Engine {
	t.Helper()
	m, err := NewMapping(nil, map[string]string{"purchase": "Purchase"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(Options{Site: "shop", Destination: "ads", Platform: p, Mapping: m, Store: f.st, Now: f.clock.now, MaxWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestEngineRestartSendsWhatTheDeadRunHeld: a run that fed events and died
// before the platform answered for them wrote nothing about them and left
// the cursor before them, so the next run feeds them again and sends them,
// once each.
func TestEngineRestartSendsWhatTheDeadRunHeld(t *testing.T) {
	ctx := context.Background()
	p := &scripted{max: 10}
	f := newFixture(t, p, nil)
	ids := f.insert(t, "purchase", 3)
	if _, err := f.eng.feedOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// The first run dies here, holding the three in memory.
	if recs := f.records(t); len(recs) != 0 {
		t.Fatalf("the run wrote %d records before the platform answered", len(recs))
	}
	again := f.newEngine(t, p)
	again.reclaim(ctx)
	if _, err := again.feedOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := again.sendRound(ctx); err != nil || n != 3 {
		t.Fatalf("the restarted run sent %d (%v), want 3", n, err)
	}
	sent := p.sent()
	for _, id := range ids {
		if sent[id] != 1 {
			t.Errorf("%s sent %d times, want once", id, sent[id])
		}
	}
}

// TestEngineReclaimsLeasesOfATrackingRun: forwarders used to track fresh
// deliveries as pending, leased, before sending them; one that died left
// them leased. A new run makes them due and sends them.
func TestEngineReclaimsLeasesOfATrackingRun(t *testing.T) {
	ctx := context.Background()
	p := &scripted{max: 10}
	f := newFixture(t, p, nil)
	ids := f.insert(t, "purchase", 3)
	evs, pos, err := f.st.Feed(ctx, "shop", "ads", 10)
	if err != nil {
		t.Fatal(err)
	}
	var leased []store.Delivery
	for _, e := range evs {
		leased = append(leased, store.Delivery{EventID: e.EventID, SendAs: "Purchase", Status: store.DeliveryPending,
			ReceivedAt: e.ReceivedAt, Source: e.Source, NextAttemptAt: f.clock.t.Add(10 * time.Minute)})
	}
	if _, err := f.st.Track(ctx, "shop", "ads", leased, pos); err != nil {
		t.Fatal(err)
	}
	again := f.newEngine(t, p)
	if n, _ := again.sendRound(ctx); n != 0 {
		t.Fatalf("leased deliveries were due before reclaiming (%d sent)", n)
	}
	again.reclaim(ctx)
	if n, err := again.sendRound(ctx); err != nil || n != 3 {
		t.Fatalf("after reclaiming the new run sent %d (%v), want 3", n, err)
	}
	for _, id := range ids {
		if r := f.records(t)[id]; r.Status != store.DeliverySent {
			t.Errorf("%s: %+v, want sent", id, r)
		}
	}
}

// TestEngineBackfillSendsNothingTwice: moving the cursor back feeds events
// that already have records; none of them is sent again.
func TestEngineBackfillSendsNothingTwice(t *testing.T) {
	p := &scripted{max: 10}
	f := newFixture(t, p, nil)
	f.insert(t, "purchase", 3)
	f.step(t)
	if _, err := f.st.OpenCursor(context.Background(), "shop", "ads", f.clock.t.Add(-2*time.Hour), true); err != nil {
		t.Fatal(err)
	}
	late := f.insert(t, "purchase", 1, func(e *event.Event) { e.EventID = "late" })
	f.clock.advance(time.Minute)
	f.step(t)
	for id, n := range p.sent() {
		if n != 1 {
			t.Errorf("%s sent %d times after the backfill, want once", id, n)
		}
	}
	if p.sent()[late[0]] != 1 {
		t.Errorf("the event stored after the backfill started was not sent")
	}
}
