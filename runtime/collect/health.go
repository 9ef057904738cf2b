package collect

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/batch"
)

// writeFailureHold is how long /readyz fails after a batch write failed for
// a reason a retry can fix (a full disk, a database refusing work) when no
// write has succeeded since. A ping cannot tell: a full disk still answers
// it. Past the hold the collector reads as ready again, so a load balancer
// sends it traffic that shows whether writes work again; in standalone,
// where no balancer stops traffic, the first successful write clears it.
const writeFailureHold = 10 * time.Second

// writeHealth remembers whether the store's writes are failing.
type writeHealth struct {
	now func() time.Time

	mu       sync.Mutex
	failedAt time.Time
	err      error
}

// observe is a batch.Options.OnFlush hook.
func (h *writeHealth) observe(f batch.Flush) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case f.Err == nil:
		h.failedAt, h.err = time.Time{}, nil
	case errors.Is(f.Err, store.ErrUnavailable):
		h.failedAt, h.err = h.now(), f.Err
	}
	// Other errors are the events' (a bad batch), not the store's health.
}

// check fails while writes are failing.
func (h *writeHealth) check() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil && h.now().Sub(h.failedAt) < writeFailureHold {
		return fmt.Errorf("store writes are failing: %w", h.err)
	}
	return nil
}
