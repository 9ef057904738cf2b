// Package batch merges the writes of many concurrent callers (collector
// requests) into few store transactions, and acknowledges each caller only
// after the transaction holding its events has committed.
package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// ErrClosed is returned by Write after Close. It wraps store.ErrUnavailable:
// a collector shutting down answers 503 and the client retries elsewhere.
var ErrClosed = fmt.Errorf("batch writer closed: %w", store.ErrUnavailable)

// Inserter is the store the writer writes to.
type Inserter interface {
	Insert(ctx context.Context, events []event.Event) (int, error)
}

// MarkingInserter is a store that tells which events of a call were new
// (postgres.Store and sqlite.Store are). With it, one transaction serves
// every caller of a batch; without it, the writer inserts each caller's
// events separately to count them exactly.
type MarkingInserter interface {
	InsertMarked(ctx context.Context, events []event.Event, inserted []bool) (int, error)
}

// Options tune a Writer. Zero values take the defaults.
type Options struct {
	// MaxBatch is the event count at which a batch is written without
	// waiting for more. Default 500.
	MaxBatch int
	// MaxDelay is how long a batch that is not full waits for more events
	// when the store is idle: it trades latency for fewer transactions at
	// low load. While a batch is being written the next one grows
	// regardless (up to MaxBatch). Default 1ms; negative hands a batch over
	// as soon as the queue is empty and the store is idle.
	MaxDelay time.Duration
	// MaxQueued bounds the events accepted and not yet committed (the
	// writer's memory). A Write that would pass it fails at once with
	// store.ErrUnavailable. Default 20000.
	MaxQueued int
	// Flushers is how many batches may be written at once; more than one
	// only while batches are full. Default: the store's WriteConcurrency()
	// when it has one (PostgreSQL: its pool size; SQLite: 1), else 4.
	Flushers int
	// FlushTimeout bounds one batch's write. Default 30s.
	FlushTimeout time.Duration
	// OnFlush, when set, is called after each batch write (from the
	// flusher goroutine; keep it quick), e.g. to feed metrics.
	OnFlush func(Flush)
}

// Flush describes one batch write.
type Flush struct {
	Events   int // events in the batch, repeats included
	Inserted int // of which new
	Callers  int
	Duration time.Duration
	Err      error
}

// Writer batches writes; see the package doc. It is safe for concurrent use.
type Writer struct {
	store   Inserter
	marking MarkingInserter // nil when store cannot mark
	opts    Options

	mu     sync.Mutex
	closed bool
	queued int           // events accepted, not yet answered
	reqs   chan *request // capacity MaxQueued: a send after reserving room never blocks
	wg     sync.WaitGroup
}

type request struct {
	events []event.Event
	done   chan result // buffered: the flusher never waits for a caller that left
}

type result struct {
	inserted int
	err      error
}

// New starts a writer and its flusher goroutines; Close stops them.
func New(st Inserter, opts Options) *Writer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 500
	}
	if opts.MaxDelay == 0 {
		opts.MaxDelay = time.Millisecond
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 20000
	}
	if opts.Flushers <= 0 {
		opts.Flushers = 4
		if c, ok := st.(interface{ WriteConcurrency() int }); ok && c.WriteConcurrency() > 0 {
			opts.Flushers = c.WriteConcurrency()
		}
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 30 * time.Second
	}
	w := &Writer{store: st, opts: opts, reqs: make(chan *request, opts.MaxQueued)}
	w.marking, _ = st.(MarkingInserter)
	w.wg.Add(1)
	go w.collect()
	return w
}

// Write stores events and returns how many were new, once the transaction
// holding them has committed. Events repeated within the call or across
// callers of one batch are stored and counted once.
//
// It fails at once with an error wrapping store.ErrUnavailable when the
// queue is full (the store is down or not keeping up) or the writer is
// closed, and with store.ErrInvalidEvent when an event cannot be stored.
// When ctx ends first, Write returns ctx's error, but the events may still
// be committed: a client retrying with the same event ids is deduplicated.
func (w *Writer) Write(ctx context.Context, events []event.Event) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(events) > w.opts.MaxQueued {
		return 0, fmt.Errorf("while queueing events: %d events exceed the queue of %d", len(events), w.opts.MaxQueued)
	}
	// Validate here, per caller: one bad event must fail its own request,
	// not the batch it would share with others. The copy also keeps the
	// queued events safe from a caller that reuses its slice after ctx ends.
	norm := make([]event.Event, len(events))
	for i := range events {
		e, err := store.Normalize(events[i])
		if err != nil {
			return 0, fmt.Errorf("while queueing event %d: %w", i, err)
		}
		norm[i] = e
	}
	req := &request{events: norm, done: make(chan result, 1)}

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, ErrClosed
	}
	if w.queued+len(norm) > w.opts.MaxQueued {
		w.mu.Unlock()
		return 0, fmt.Errorf("while queueing %d events: %d already waiting: %w", len(norm), w.queued, store.ErrUnavailable)
	}
	w.queued += len(norm)
	w.reqs <- req
	w.mu.Unlock()

	select {
	case r := <-req.done:
		return r.inserted, r.err
	case <-ctx.Done():
		return 0, fmt.Errorf("while waiting for the commit: %w", ctx.Err())
	}
}

// Queued returns how many events are accepted and not yet committed.
func (w *Writer) Queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queued
}

// Close stops accepting writes, writes every accepted event (each caller
// still gets its answer), and returns when all flushers have stopped.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.reqs)
	w.mu.Unlock()
	w.wg.Wait()
	return nil
}

// collect forms batches and hands each to a free flusher. While flushers
// are busy the batch keeps growing (up to MaxBatch), so batches grow with
// load and the cost of a transaction is shared by more events exactly when
// the store is the bottleneck. A full batch is handed over at once; a
// partial one once MaxDelay has passed since its first event and no batch
// is being written.
func (w *Writer) collect() {
	defer w.wg.Done()
	work := make(chan []*request)
	idle := make(chan struct{}, w.opts.Flushers)
	var flushers sync.WaitGroup
	for range w.opts.Flushers {
		flushers.Add(1)
		go func() {
			defer flushers.Done()
			sc := &scratch{}
			for b := range work {
				w.flush(b, sc)
				idle <- struct{}{}
			}
		}()
	}
	defer func() {
		close(work)
		flushers.Wait()
	}()

	free := w.opts.Flushers
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		cur      []*request
		n        int // events in cur
		lingerC  <-chan time.Time
		lingered bool // MaxDelay has passed since cur's first event
		open     = true
	)
	add := func(r *request) {
		if len(cur) == 0 {
			lingered = w.opts.MaxDelay < 0
			if !lingered {
				timer.Reset(w.opts.MaxDelay)
				lingerC = timer.C
			}
		}
		cur = append(cur, r)
		n += len(r.events)
	}
	for open || len(cur) > 0 {
		// Take what is queued now, up to a full batch.
	drain:
		for open && n < w.opts.MaxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					open = false
					break drain
				}
				add(r)
			default:
				break drain
			}
		}
		// A full batch goes to any free flusher; a partial one only when all
		// are free. So at moderate load one transaction runs at a time and
		// the next batch grows meanwhile (fewer, larger transactions: on a
		// small machine the fixed cost of a transaction dominates), and
		// parallel transactions start only when batches fill up.
		if len(cur) > 0 && free > 0 && (n >= w.opts.MaxBatch || !open || lingered && free == w.opts.Flushers) {
			timer.Stop()
			lingerC = nil
			work <- cur
			free--
			cur, n = nil, 0
			continue
		}
		if !open && len(cur) == 0 {
			return // closed (found by the drain above) and all handed over
		}
		// Wait for a request (unless the batch is full), a free flusher,
		// or the end of the linger.
		in := w.reqs
		if !open || n >= w.opts.MaxBatch {
			in = nil
		}
		select {
		case r, ok := <-in:
			if !ok {
				open = false
				continue
			}
			add(r)
		case <-idle:
			free++
		case <-lingerC:
			lingerC = nil
			lingered = true
		}
	}
}

// scratch holds one flusher's buffers, reused from batch to batch.
type scratch struct {
	merged []event.Event
	owner  []int32 // merged index -> batch index
	marks  []bool
	counts []int
}

// flush writes one batch and answers its callers.
func (w *Writer) flush(batch []*request, sc *scratch) {
	n := 0
	for _, r := range batch {
		n += len(r.events)
	}
	counts := append(sc.counts[:0], make([]int, len(batch))...)
	sc.counts = counts
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.FlushTimeout)
	defer cancel()
	var (
		err      error
		events   int
		inserted int
	)
	if w.marking != nil {
		events, inserted, err = w.writeMerged(ctx, batch, sc, counts)
	} else {
		for i, r := range batch {
			c, ierr := w.store.Insert(ctx, r.events)
			if ierr != nil {
				err = errors.Join(err, ierr)
				counts[i] = -1
				continue
			}
			counts[i] = c
			inserted += c
			events += len(r.events)
		}
	}
	if w.opts.OnFlush != nil {
		w.opts.OnFlush(Flush{Events: events, Inserted: inserted, Callers: len(batch), Duration: time.Since(start), Err: err})
	}

	w.mu.Lock()
	w.queued -= n
	w.mu.Unlock()
	for i, r := range batch {
		switch {
		case w.marking != nil && err != nil:
			r.done <- result{err: err}
		case counts[i] < 0:
			r.done <- result{err: err}
		default:
			r.done <- result{inserted: counts[i]}
		}
	}
}

// writeMerged writes the batch as one store call and counts each caller's
// new events into counts. A key sent by several callers is stored once and
// counted for the first: the store marks only the first occurrence.
func (w *Writer) writeMerged(ctx context.Context, batch []*request, sc *scratch, counts []int) (events, inserted int, err error) {
	merged, owner := sc.merged[:0], sc.owner[:0]
	for i, r := range batch {
		merged = append(merged, r.events...)
		for range r.events {
			owner = append(owner, int32(i))
		}
	}
	marks := append(sc.marks[:0], make([]bool, len(merged))...)
	sc.merged, sc.owner, sc.marks = merged, owner, marks
	defer clear(merged) // drop references to answered callers' events

	inserted, err = w.marking.InsertMarked(ctx, merged, marks)
	if err != nil {
		return len(merged), 0, err
	}
	for i, m := range marks {
		if m {
			counts[owner[i]]++
		}
	}
	return len(merged), inserted, nil
}
