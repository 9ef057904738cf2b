package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Erasure is what erasing a person on request needs of the store.
type Erasure interface {
	// RequestErasure records a request and returns its id. Its key is kept
	// only until the request completes.
	RequestErasure(ctx context.Context, req ErasureRequest) (int64, error)
	// PendingErasures returns the site's requests not yet completed,
	// oldest first, with their keys.
	PendingErasures(ctx context.Context, site string) ([]ErasureRequest, error)
	// RunErasure carries out a pending request: it deletes every event of
	// the person its key names (as JourneyLookup finds them: every visitor
	// id and user id the matching events carry), with their dedup keys and
	// delivery records, suppresses the person's future events when asked,
	// and completes the request, dropping its key. Deleting runs in small
	// transactions that each add their rows to the request's count, so a
	// run killed midway and run again finishes without counting twice. A
	// request already completed is left alone. With dryRun it counts the
	// events it would delete and changes nothing.
	RunErasure(ctx context.Context, site string, id int64, now time.Time, dryRun bool) (ErasureResult, error)
	// ListErasures returns the site's requests, newest first, at most
	// limit, without their keys: the audit list.
	ListErasures(ctx context.Context, site string, limit int) ([]ErasureRequest, error)
	// Suppressions returns the digests of the site's suppressed people.
	Suppressions(ctx context.Context, site string) ([]Suppression, error)
}

// Key kinds of an erasure request, as the API names them.
const (
	KeyVisitorID = "visitor_id"
	KeyUserID    = "user_id"
	KeyEmail     = "email"
	KeyOrderID   = "order_id"
)

// ErasureRequest is one request to erase a person.
type ErasureRequest struct {
	Site        string
	ID          int64
	RequestedAt time.Time
	// RequestedBy is the dashboard user who asked ("admin", an OIDC email).
	RequestedBy string
	// KeyKind is one of the Key* constants.
	KeyKind string
	// Key is the visitor id, user id, order id, or the email's stored
	// digest (Meta's normalization: never the raw address). Empty once the
	// request completed, and in ListErasures.
	Key      string
	Suppress bool
	// CompletedAt is zero while the request is pending.
	CompletedAt time.Time
	// RowsRemoved counts the events deleted so far.
	RowsRemoved int64
}

// JourneyKey returns the person the request names, as a journey key.
func (r ErasureRequest) JourneyKey() (JourneyKey, error) {
	switch r.KeyKind {
	case KeyVisitorID:
		return JourneyKey{VisitorID: r.Key}, nil
	case KeyUserID:
		return JourneyKey{UserID: r.Key}, nil
	case KeyEmail:
		return JourneyKey{EmailSHA256: r.Key}, nil
	case KeyOrderID:
		return JourneyKey{OrderID: r.Key}, nil
	}
	return JourneyKey{}, fmt.Errorf("erasure key kind %q: want visitor_id, user_id, email or order_id", r.KeyKind)
}

// Validate checks a new request.
func (r ErasureRequest) Validate() error {
	if r.Site == "" {
		return ErrNoSite
	}
	if _, err := r.JourneyKey(); err != nil {
		return err
	}
	if r.Key == "" {
		return fmt.Errorf("erasure by %s with an empty key", r.KeyKind)
	}
	return nil
}

// ErasureResult is what one RunErasure did (or would do).
type ErasureResult struct {
	EventsDeleted     int64 `json:"eventsDeleted"`
	KeysDeleted       int64 `json:"keysDeleted"`
	DeliveriesDeleted int64 `json:"deliveriesDeleted"`
	// Visitors and Users count the visitor ids and user ids the person had.
	Visitors int `json:"visitors"`
	Users    int `json:"users"`
	// Suppressed counts the suppression entries added.
	Suppressed int `json:"suppressed"`
}

// ErrErasureNotFound means no request of the site has the id.
var ErrErasureNotFound = errors.New("no such erasure request")

// Suppression is one suppressed key: future events carrying it are
// dropped at ingest.
type Suppression struct {
	// Kind is KeyVisitorID, KeyUserID or KeyEmail.
	Kind string
	// KeyHash is SuppressionHash of a visitor id or user id, or the
	// email's stored digest.
	KeyHash string
}

// SuppressionHash is the digest a visitor id or user id is suppressed by,
// so the suppression list holds no id in the clear.
func SuppressionHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
