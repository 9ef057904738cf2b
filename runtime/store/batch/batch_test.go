package batch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/batch"
)

// memStore is an in-memory store that dedups like the real ones and
// records the size of each call.
type memStore struct {
	mu    sync.Mutex
	keys  map[string]bool
	calls []int
	gate  chan struct{} // when set, each call waits for a value
	err   error         // when set, each call fails with it
}

func newMemStore() *memStore { return &memStore{keys: map[string]bool{}} }

func (m *memStore) InsertMarked(ctx context.Context, events []event.Event, inserted []bool) (int, error) {
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, len(events))
	if m.err != nil {
		return 0, m.err
	}
	n := 0
	for i, e := range events {
		k := e.Site + "\x00" + e.EventID
		if m.keys[k] {
			continue
		}
		m.keys[k] = true
		if inserted != nil {
			inserted[i] = true
		}
		n++
	}
	return n, nil
}

func (m *memStore) Insert(ctx context.Context, events []event.Event) (int, error) {
	return m.InsertMarked(ctx, events, nil)
}

func (m *memStore) stored() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

func (m *memStore) callSizes() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.calls...)
}

// plainStore hides InsertMarked, to test the per-caller fallback.
type plainStore struct{ m *memStore }

func (p plainStore) Insert(ctx context.Context, events []event.Event) (int, error) {
	return p.m.Insert(ctx, events)
}

func ev(id string) event.Event {
	return event.Event{Site: "shop", EventID: id, Type: event.TypePageview, Source: event.SourceBrowser, ReceivedAt: time.Now()}
}

func evs(prefix string, n int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		out[i] = ev(fmt.Sprint(prefix, i))
	}
	return out
}

// waitQueued blocks until w holds n events: the test's own timeout bounds it.
func waitQueued(t *testing.T, w *batch.Writer, n int) {
	t.Helper()
	for w.Queued() != n {
		time.Sleep(time.Millisecond)
	}
}

func TestConcurrentWritersCountExactly(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store func(*memStore) batch.Inserter
	}{
		{"merged", func(m *memStore) batch.Inserter { return m }},
		{"per caller", func(m *memStore) batch.Inserter { return plainStore{m} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemStore()
			w := batch.New(tt.store(m), batch.Options{MaxBatch: 64, Flushers: 3})
			defer w.Close()
			// 40 writers; each id is written by 4 of them, in requests of 1-5.
			const writers, ids = 40, 500
			var wg sync.WaitGroup
			var mu sync.Mutex
			total := 0
			errs := make(chan error, writers)
			for g := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g % 10; i < ids; {
						size := 1 + (i+g)%5
						var req []event.Event
						for j := 0; j < size && i < ids; j++ {
							req = append(req, ev(fmt.Sprint("id", i)))
							i += 10
						}
						n, err := w.Write(context.Background(), req)
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						total += n
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if total != ids || m.stored() != ids {
				t.Errorf("callers counted %d new events, store holds %d; want %d each", total, m.stored(), ids)
			}
		})
	}
}

func TestDuplicateAcrossCallersInOneBatch(t *testing.T) {
	m := newMemStore()
	// One flusher, a batch of exactly the two callers' events, no timer.
	w := batch.New(m, batch.Options{MaxBatch: 3, MaxDelay: time.Hour, Flushers: 1})
	defer w.Close()
	var wg sync.WaitGroup
	counts := make([]int, 2)
	reqs := [][]event.Event{{ev("same"), ev("a")}, {ev("same")}}
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.Write(context.Background(), req)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != 2 || m.stored() != 2 {
		t.Errorf("counts %v, stored %d; want counts summing to 2 and 2 stored", counts, m.stored())
	}
	if got := m.callSizes(); len(got) != 1 || got[0] != 3 {
		t.Errorf("store calls %v, want both callers in one call of 3 events", got)
	}
}

func TestFlushOnSize(t *testing.T) {
	m := newMemStore()
	// MaxDelay is an hour: only reaching MaxBatch can write the batch.
	w := batch.New(m, batch.Options{MaxBatch: 10, MaxDelay: time.Hour, Flushers: 1})
	defer w.Close()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := w.Write(context.Background(), []event.Event{ev(fmt.Sprint(i))}); n != 1 || err != nil {
				t.Errorf("Write = %d, %v", n, err)
			}
		}()
	}
	wg.Wait()
	if got := m.callSizes(); len(got) != 1 || got[0] != 10 {
		t.Errorf("store calls %v, want one of 10", got)
	}
}

func TestFlushOnTimer(t *testing.T) {
	m := newMemStore()
	// The batch can never fill: only the timer writes it.
	w := batch.New(m, batch.Options{MaxBatch: 1000, MaxDelay: 10 * time.Millisecond, Flushers: 1})
	defer w.Close()
	if n, err := w.Write(context.Background(), evs("t", 3)); n != 3 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := m.callSizes(); len(got) != 1 || got[0] != 3 {
		t.Errorf("store calls %v, want one of 3", got)
	}
}

func TestQueueFull(t *testing.T) {
	m := newMemStore()
	m.gate = make(chan struct{})
	w := batch.New(m, batch.Options{MaxQueued: 5, MaxDelay: -1, Flushers: 1})
	defer w.Close()
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(context.Background(), evs("a", 4))
		done <- err
	}()
	waitQueued(t, w, 4)
	// 4 of 5 are taken while the store hangs: 2 more do not fit, 1 does.
	if _, err := w.Write(context.Background(), evs("b", 2)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Write past the bound = %v, want ErrUnavailable", err)
	}
	ones := make(chan error, 1)
	go func() {
		_, err := w.Write(context.Background(), evs("c", 1))
		ones <- err
	}()
	waitQueued(t, w, 5)
	close(m.gate)
	if err := <-done; err != nil {
		t.Errorf("first Write: %v", err)
	}
	if err := <-ones; err != nil {
		t.Errorf("fitting Write: %v", err)
	}
	if w.Queued() != 0 {
		t.Errorf("Queued = %d after all commits, want 0", w.Queued())
	}
	if _, err := w.Write(context.Background(), evs("d", 5)); err != nil {
		t.Errorf("Write after the queue drained: %v", err)
	}
}

func TestStoreDownFailsEveryCaller(t *testing.T) {
	m := newMemStore()
	down := fmt.Errorf("while inserting: %w: connection refused", store.ErrUnavailable)
	m.err = down
	w := batch.New(m, batch.Options{MaxBatch: 4, MaxDelay: time.Hour, Flushers: 1})
	defer w.Close()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.Write(context.Background(), []event.Event{ev(fmt.Sprint(i))})
			if n != 0 || !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Write = %d, %v; want 0 and the store's error", n, err)
			}
		}()
	}
	wg.Wait()
	if w.Queued() != 0 {
		t.Errorf("Queued = %d after failed writes, want 0 (room is given back)", w.Queued())
	}
}

func TestCloseFlushesAccepted(t *testing.T) {
	m := newMemStore()
	// Neither size nor timer would write these: only Close.
	w := batch.New(m, batch.Options{MaxBatch: 1000, MaxDelay: time.Hour, Flushers: 2})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := w.Write(context.Background(), evs(fmt.Sprint("w", i, "-"), 3)); n != 3 || err != nil {
				t.Errorf("Write = %d, %v", n, err)
			}
		}()
	}
	waitQueued(t, w, 18)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if m.stored() != 18 {
		t.Errorf("stored %d events, want all 18 accepted before Close", m.stored())
	}
	if _, err := w.Write(context.Background(), evs("late", 1)); !errors.Is(err, batch.ErrClosed) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Write after Close = %v, want ErrClosed (an ErrUnavailable)", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestInvalidEventFailsOnlyItsCaller(t *testing.T) {
	m := newMemStore()
	w := batch.New(m, batch.Options{})
	defer w.Close()
	bad := ev("")
	if _, err := w.Write(context.Background(), []event.Event{ev("ok1"), bad}); !errors.Is(err, store.ErrInvalidEvent) {
		t.Errorf("Write with an invalid event = %v, want ErrInvalidEvent", err)
	}
	if n, err := w.Write(context.Background(), []event.Event{ev("ok2")}); n != 1 || err != nil {
		t.Errorf("next Write = %d, %v", n, err)
	}
	if m.stored() != 1 {
		t.Errorf("stored %d, want 1 (nothing of the rejected request)", m.stored())
	}
}

func TestCallerContextEnds(t *testing.T) {
	m := newMemStore()
	m.gate = make(chan struct{})
	w := batch.New(m, batch.Options{MaxDelay: -1, Flushers: 1})
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(ctx, evs("c", 2))
		done <- err
	}()
	waitQueued(t, w, 2)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Write after cancel = %v, want context.Canceled", err)
	}
	// The batch is not abandoned: it commits for whoever retries.
	close(m.gate)
	waitQueued(t, w, 0)
	if m.stored() != 2 {
		t.Errorf("stored %d, want 2", m.stored())
	}
	if _, err := w.Write(ctx, evs("x", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a done context = %v, want context.Canceled", err)
	}
}

func TestOnFlush(t *testing.T) {
	m := newMemStore()
	var mu sync.Mutex
	var flushes []batch.Flush
	w := batch.New(m, batch.Options{MaxDelay: -1, Flushers: 1, OnFlush: func(f batch.Flush) {
		mu.Lock()
		flushes = append(flushes, f)
		mu.Unlock()
	}})
	if _, err := w.Write(context.Background(), []event.Event{ev("a"), ev("a"), ev("b")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(flushes) != 1 || flushes[0].Events != 3 || flushes[0].Inserted != 2 || flushes[0].Callers != 1 || flushes[0].Err != nil {
		t.Errorf("flushes = %+v, want one of 3 events, 2 new, 1 caller", flushes)
	}
}

// TestCloseRightAfterWrite repeats a close that races with the flusher
// reporting back: a collector that noticed the close while draining once
// waited for a flusher that had already reported.
func TestCloseRightAfterWrite(t *testing.T) {
	for i := range 300 {
		m := newMemStore()
		w := batch.New(m, batch.Options{})
		if n, err := w.Write(context.Background(), []event.Event{ev(fmt.Sprint(i))}); n != 1 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// heldStore holds every call until the test releases it, and records how
// many calls were in the store at once.
type heldStore struct {
	arrived chan struct{}
	release chan struct{}

	mu                sync.Mutex
	inFlight, maxSeen int
}

func newHeldStore() *heldStore {
	return &heldStore{arrived: make(chan struct{}, 16), release: make(chan struct{})}
}

func (h *heldStore) InsertMarked(ctx context.Context, events []event.Event, inserted []bool) (int, error) {
	h.mu.Lock()
	h.inFlight++
	h.maxSeen = max(h.maxSeen, h.inFlight)
	h.mu.Unlock()
	h.arrived <- struct{}{}
	<-h.release
	h.mu.Lock()
	h.inFlight--
	h.mu.Unlock()
	for i := range inserted {
		inserted[i] = true
	}
	return len(events), nil
}

func (h *heldStore) Insert(ctx context.Context, events []event.Event) (int, error) {
	return h.InsertMarked(ctx, events, nil)
}

// TestOnePartialBatchAtATime checks that a batch that is not full waits
// while another is written, growing meanwhile: a single event written
// while the first is held reaches the store only after it.
func TestOnePartialBatchAtATime(t *testing.T) {
	h := newHeldStore()
	w := batch.New(h, batch.Options{MaxDelay: -1, Flushers: 4})
	defer w.Close()
	var wg sync.WaitGroup
	write := func(id string) {
		wg.Go(func() {
			if n, err := w.Write(context.Background(), []event.Event{ev(id)}); n != 1 || err != nil {
				t.Errorf("Write(%s) = %d, %v", id, n, err)
			}
		})
	}
	write("held")
	<-h.arrived
	write("waiting")
	waitQueued(t, w, 2)
	h.release <- struct{}{}
	<-h.arrived
	h.release <- struct{}{}
	wg.Wait()
	if h.maxSeen != 1 {
		t.Errorf("%d partial batches written at once, want 1", h.maxSeen)
	}
}
