// Package store persists events. Implementations live in sub-packages:
// postgres (clusters) and sqlite (standalone); batch merges concurrent
// writers into few transactions; storetest holds the conformance suite every
// implementation passes.
//
// Both SQL stores keep hourly rollups that Totals and Series read where
// they are complete, with the same answers as the raw events (rollups.go).
// Reads see late events by themselves; deletions they cannot see, so code
// that deletes events (retention, erasure, a site's purge) calls
// Rollups.RefreshRollups for the hours it deleted from, and retries it
// until it succeeds.
package store

import (
	"context"
	"errors"

	"github.com/trackstack/trackstack/runtime/event"
)

// ErrUnavailable means the store cannot take writes now (down, or not keeping
// up); callers should answer 503 with Retry-After rather than buffer.
// Implementations wrap it into errors caused by an unreachable database, so
// errors.Is(err, ErrUnavailable) tells a retryable outage from a bad event.
var ErrUnavailable = errors.New("store unavailable")

// Store is what every runtime component needs of the database.
type Store interface {
	// Migrate applies the embedded schema migrations, under a lock so that
	// concurrent starts apply each migration once.
	Migrate(ctx context.Context) error
	// Insert stores events; an event whose (site, event_id) is already
	// stored, or appears earlier in the same call, is skipped, except that a
	// server event supersedes a browser event (Supersedes, Supersede). It
	// returns how many were new, superseding events included. It returns only after commit. Events are stored as
	// Normalize returns them; an event Normalize rejects fails the whole call
	// and nothing is stored.
	Insert(ctx context.Context, events []event.Event) (inserted int, err error)
	// Recent returns the newest events of a site, newest first: by
	// received_at, then by insertion order. A non-positive limit returns none.
	Recent(ctx context.Context, site string, limit int) ([]event.Event, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the connections.
	Close() error
}
