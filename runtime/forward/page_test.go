package forward

import (
	"context"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// fedFromCursor returns the ids a forwarder starting now would be fed.
func (f *fixture) fedFromCursor(t *testing.T) []string {
	t.Helper()
	evs, _, err := f.st.Feed(context.Background(), "shop", "ads", 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.EventID)
	}
	return ids
}

// TestEngineSettlesOnlyWhatThePlatformAnswered: while a batch is in
// flight, its events have no record and the cursor has not moved past
// them, so a forwarder killed then feeds them again; once the platform
// answered, they are recorded sent and the cursor is past them.
func TestEngineSettlesOnlyWhatThePlatformAnswered(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	p := &scripted{max: 10, answer: func(_ int, items []Item) ([]Outcome, error) {
		close(arrived)
		<-release
		out := make([]Outcome, len(items))
		for i := range items {
			out[i] = Outcome{Status: Sent, ResponseID: "resp"}
		}
		return out, nil
	}}
	f := newFixture(t, p, nil)
	ids := f.insert(t, "purchase", 3)
	done := make(chan error)
	go func() {
		if _, err := f.eng.feedOnce(context.Background()); err != nil {
			done <- err
			return
		}
		_, err := f.eng.sendRound(context.Background())
		done <- err
	}()
	<-arrived
	if recs := f.records(t); len(recs) != 0 {
		t.Errorf("with the batch in flight %d events have records, want none", len(recs))
	}
	if fed := f.fedFromCursor(t); len(fed) != 3 {
		t.Errorf("with the batch in flight a restarted forwarder would be fed %v, want all three", fed)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs := f.records(t)
	for _, id := range ids {
		if r := recs[id]; r.Status != store.DeliverySent || r.Attempts != 1 || r.ResponseID != "resp" || r.SendAs != "Purchase" {
			t.Errorf("%s: %+v, want sent as Purchase once with the response id", id, r)
		}
	}
	if fed := f.fedFromCursor(t); len(fed) != 0 {
		t.Errorf("after the platform answered the cursor still feeds %v", fed)
	}
}

// TestEngineReadsAheadWhileSending: pages read while earlier ones wait to
// be sent are sent together and settled in order, the cursor ending past
// the last one.
func TestEngineReadsAheadWhileSending(t *testing.T) {
	ctx := context.Background()
	p := &scripted{max: 10}
	f := newFixture(t, p, nil)
	f.eng.o.FeedLimit = 2
	ids := f.insert(t, "purchase", 5)
	f.insert(t, "pageview", 2) // a last page with nothing to send
	for range 4 {
		if _, err := f.eng.feedOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := f.eng.sendRound(ctx); err != nil || n != 5 {
		t.Fatalf("the round sent %d (%v), want the 5 purchases of three pages", n, err)
	}
	if len(p.batches) != 1 {
		t.Errorf("%d requests, want the three pages in one", len(p.batches))
	}
	recs := f.records(t)
	for _, id := range ids {
		if recs[id].Status != store.DeliverySent {
			t.Errorf("%s: %+v, want sent", id, recs[id])
		}
	}
	if fed := f.fedFromCursor(t); len(fed) != 0 {
		t.Errorf("after the round the cursor still feeds %v", fed)
	}
}

// TestEngineBackfillWhileSending: a backfill moves the cursor back while
// the engine sends what it read ahead. The answers are recorded, the
// cursor stays where the backfill put it, and the engine reads on from
// there, sending nothing twice.
func TestEngineBackfillWhileSending(t *testing.T) {
	ctx := context.Background()
	p := &scripted{max: 10}
	f := newFixture(t, p, nil)
	ids := f.insert(t, "purchase", 2)
	f.step(t)
	ids = append(ids, f.insert(t, "purchase", 3)...)
	if _, err := f.eng.feedOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.OpenCursor(ctx, "shop", "ads", f.clock.t.Add(-2*time.Hour), true); err != nil {
		t.Fatal(err)
	}
	if n, err := f.eng.sendRound(ctx); err != nil || n != 3 {
		t.Fatalf("the round sent %d (%v), want 3", n, err)
	}
	if fed := f.fedFromCursor(t); len(fed) != 5 {
		t.Errorf("the engine moved the cursor a backfill had reset: it feeds %v, want all five again", fed)
	}
	for _, id := range ids {
		if r := f.records(t)[id]; r.Status != store.DeliverySent {
			t.Errorf("%s: %+v, want sent", id, r)
		}
	}
	late := f.insert(t, "purchase", 1)
	f.clock.advance(time.Minute)
	f.step(t)
	sent := p.sent()
	for _, id := range append(ids, late...) {
		if sent[id] != 1 {
			t.Errorf("%s sent %d times, want once", id, sent[id])
		}
	}
	if fed := f.fedFromCursor(t); len(fed) != 0 {
		t.Errorf("after reading on the cursor still feeds %v", fed)
	}
}
