package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// Store is what the engine needs of the store.
type Store interface {
	store.Deliveries
	Ping(ctx context.Context) error
}

// Options configure an Engine. Zero values take the defaults named.
type Options struct {
	Site        string
	Destination string
	Platform    Platform
	Mapping     *Mapping
	Store       Store
	Logger      *slog.Logger
	// Metrics may be nil (no metrics).
	Metrics *Metrics
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OpenIP decrypts an event's sealed raw IP; nil leaves RawIP empty.
	OpenIP func(sealed []byte) (string, error)
	// IPDestinations are the site's destinations that match on the raw IP:
	// once all of them have a final record for an event, its sealed IP is
	// dropped. Empty: this engine never drops it.
	IPDestinations []string

	// MaxWait is the longest a partial batch waits for more events
	// (default 1s).
	MaxWait time.Duration
	// Concurrency is how many requests may be in flight (default 4).
	Concurrency int
	// FeedLimit is how many events one read of the feed takes (default 2000).
	FeedLimit int
	// PollInterval is how long an idle loop sleeps (default 200ms).
	PollInterval time.Duration
	// MaxAttempts is how many transient failures an event survives before
	// it is failed (default 12: with the backoff, about a day).
	MaxAttempts int
	// BackoffBase and BackoffMax bound the retry delay: base·2^(attempts-1)
	// with full jitter, at most max (defaults 2s and 4h). A platform's
	// Retry-After wins when it asks for longer.
	BackoffBase, BackoffMax time.Duration
	// AuthRetry is how long a destination whose credentials were rejected
	// waits before it tries again (default 1m).
	AuthRetry time.Duration
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.MaxWait, time.Second)
	def(&o.PollInterval, 200*time.Millisecond)
	def(&o.BackoffBase, 2*time.Second)
	def(&o.BackoffMax, 4*time.Hour)
	def(&o.AuthRetry, time.Minute)
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.FeedLimit <= 0 {
		o.FeedLimit = 2000
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
}

// Engine forwards one destination's events. Build it with New and run it
// with Run; Ready says whether it is healthy.
type Engine struct {
	o   Options
	log *slog.Logger

	// authErr is the platform's message while it rejects the credentials.
	authErr atomic.Pointer[string]
	// authUntil (unix ns) pauses sending after the platform rejected the
	// credentials, until AuthRetry has passed.
	authUntil atomic.Int64
	// storeErr is set while the store fails.
	storeErr atomic.Pointer[string]
	// feedDone is closed after the first pass over the feed caught up.
	feedDone  chan struct{}
	closeOnce sync.Once
	// pages carries what the feed loop read to the send loop, which sends
	// it from memory: tracking it first and reading it back would cost the
	// database as much again.
	pages chan *page
	// gen counts the times the send loop found the cursor moved under it
	// (a backfill): pages fed before that are dropped, and the feed loop
	// reads on from the cursor.
	gen atomic.Uint64
	// next is where the feed loop reads on, read at gen nextGen (the feed
	// loop's alone; nil: at the cursor).
	next    *store.FeedPosition
	nextGen uint64
	// queue holds the pages the send loop took and has not settled, in
	// feed order, and held their deliveries it has not sent yet (the send
	// loop's alone).
	queue []*page
	held  []freshDelivery
}

// New checks the options and returns an Engine.
func New(o Options) (*Engine, error) {
	switch {
	case o.Site == "" || o.Destination == "":
		return nil, errors.New("forward: site and destination are required")
	case o.Platform == nil || o.Store == nil || o.Mapping == nil:
		return nil, errors.New("forward: platform, store and mapping are required")
	case o.Platform.MaxBatch() < 1:
		return nil, errors.New("forward: the platform's MaxBatch must be at least 1")
	}
	o.defaults()
	log := o.Logger.With("site", o.Site, "destination", o.Destination)
	return &Engine{o: o, log: log, feedDone: make(chan struct{}), pages: make(chan *page, 4)}, nil
}

// Ready returns why the engine is not ready: the platform rejects the
// credentials, or the store fails. nil when ready.
func (e *Engine) Ready(ctx context.Context) error {
	if msg := e.authErr.Load(); msg != nil {
		return fmt.Errorf("the platform rejects the credentials: %s", *msg)
	}
	if msg := e.storeErr.Load(); msg != nil {
		return fmt.Errorf("the store fails: %s", *msg)
	}
	return nil
}

// Run forwards until ctx ends: one loop follows the feed and records
// deliveries, another sends the due ones, a third refreshes the backlog
// metrics. Store failures are logged and retried; Run returns nil when ctx
// ends.
func (e *Engine) Run(ctx context.Context) error {
	e.reclaim(ctx)
	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){e.feedLoop, e.sendLoop, e.statsLoop} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// CaughtUp is closed once the feed has been read to its end once.
func (e *Engine) CaughtUp() <-chan struct{} { return e.feedDone }

// feedLoop reads the feed and records a delivery for every event the
// destination takes.
func (e *Engine) feedLoop(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := e.feedOnce(ctx)
		if e.storeFailed(ctx, "reading the feed", err) {
			sleep(ctx, e.o.PollInterval*5)
			continue
		}
		if n < e.o.FeedLimit {
			e.closeOnce.Do(func() { close(e.feedDone) })
			sleep(ctx, e.o.PollInterval)
		}
	}
}

// reclaim makes the records a previous run leased and never sent due, so
// they go out now: forwarders that tracked fresh deliveries before sending
// them left such leases when they died. It retries while the store fails.
func (e *Engine) reclaim(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := e.o.Store.Reclaim(ctx, e.o.Site, e.o.Destination, e.o.Now())
		if !e.storeFailed(ctx, "reclaiming leased deliveries", err) {
			if n > 0 {
				e.log.Info("resending deliveries a previous run had not finished", "events", n)
			}
			return
		}
		sleep(ctx, e.o.PollInterval*5)
	}
}

// storeFailed records a store error for readiness and logs it; it reports
// whether there was one. An error after ctx ended is shutdown, not failure.
func (e *Engine) storeFailed(ctx context.Context, doing string, err error) bool {
	if err == nil {
		if e.storeErr.Load() != nil {
			e.storeErr.Store(nil)
			e.log.Info("store reachable again")
		}
		return false
	}
	if ctx.Err() != nil {
		return true
	}
	msg := err.Error()
	if prev := e.storeErr.Swap(&msg); prev == nil || *prev != msg {
		e.log.Error("store failure, retrying", "while", doing, "err", err)
	}
	return true
}

func (e *Engine) count(status, reason string, n int) {
	if e.o.Metrics == nil || n == 0 {
		return
	}
	e.o.Metrics.events.WithLabelValues(e.o.Site, e.o.Destination, status, reason).Add(float64(n))
}

// backoff is the delay before attempt n+1 after n failed attempts: full
// jitter over base·2^(n-1), capped.
func (e *Engine) backoff(attempts int, retryAfter time.Duration) time.Duration {
	d := e.o.BackoffMax
	if attempts < 40 {
		if x := e.o.BackoffBase << (attempts - 1); x > 0 && x < d {
			d = x
		}
	}
	d = time.Duration(rand.Int64N(int64(d)) + 1)
	if retryAfter > d {
		d = retryAfter
	}
	return d
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
