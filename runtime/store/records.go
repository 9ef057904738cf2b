package store

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// ErrInvalidDelivery means a delivery record handed to a store is malformed
// (no event id, an unknown status, ...); a retry will not fix it.
var ErrInvalidDelivery = errors.New("invalid delivery record")

// NewRecords checks the records given to Track, as both SQL stores take
// them: each needs an event id, its event's received_at and source, and the status
// pending or skipped (a record is created before any attempt). A repeated
// event id keeps its first record, as a repeated event does in Insert. A
// zero NextAttemptAt becomes now.
func NewRecords(records []Delivery, now time.Time) ([]Delivery, error) {
	return fedRecords(records, now, func(status string) bool {
		return status == DeliveryPending || status == DeliverySkipped
	})
}

// SettledRecords checks the records given to Settle as NewRecords does,
// except that any of the Delivery* statuses is allowed: Settle records
// outcomes of events sent straight from the feed.
func SettledRecords(records []Delivery, now time.Time) ([]Delivery, error) {
	return fedRecords(records, now, ValidDeliveryStatus)
}

func fedRecords(records []Delivery, now time.Time, statusOK func(string) bool) ([]Delivery, error) {
	out, err := checkRecords(records, now, statusOK)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]struct{}, len(out))
	kept := out[:0]
	for i, r := range out {
		if r.ReceivedAt.IsZero() {
			return nil, fmt.Errorf("%w: record %d (event %q) has no received_at", ErrInvalidDelivery, i, r.EventID)
		}
		if r.Source != event.SourceBrowser && r.Source != event.SourceServer {
			return nil, fmt.Errorf("%w: record %d (event %q) has source %q, not browser or server", ErrInvalidDelivery, i, r.EventID, r.Source)
		}
		if _, dup := seen[r.EventID]; dup {
			continue
		}
		seen[r.EventID] = struct{}{}
		kept = append(kept, r)
	}
	return kept, nil
}

// Outcomes checks the records given to Record: each needs an event id and
// one of the Delivery* statuses. A repeated event id keeps its last record,
// the latest outcome. A zero NextAttemptAt becomes now.
func Outcomes(records []Delivery, now time.Time) ([]Delivery, error) {
	out, err := checkRecords(records, now, ValidDeliveryStatus)
	if err != nil {
		return nil, err
	}
	last := make(map[string]int, len(out))
	for i, r := range out {
		last[r.EventID] = i
	}
	kept := out[:0]
	for i, r := range out {
		if last[r.EventID] == i {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// ValidDeliveryStatus reports whether status is one of the Delivery*
// constants.
func ValidDeliveryStatus(status string) bool {
	switch status {
	case DeliveryPending, DeliverySent, DeliverySkipped, DeliveryFailed:
		return true
	}
	return false
}

func checkRecords(records []Delivery, now time.Time, statusOK func(string) bool) ([]Delivery, error) {
	out := make([]Delivery, len(records))
	for i, r := range records {
		switch {
		case r.EventID == "":
			return nil, fmt.Errorf("%w: record %d has no event id", ErrInvalidDelivery, i)
		case !statusOK(r.Status):
			return nil, fmt.Errorf("%w: record %d (event %q) has status %q", ErrInvalidDelivery, i, r.EventID, r.Status)
		case r.Attempts < 0 || r.Attempts > math.MaxInt32:
			return nil, fmt.Errorf("%w: record %d (event %q) has %d attempts", ErrInvalidDelivery, i, r.EventID, r.Attempts)
		}
		if r.NextAttemptAt.IsZero() {
			r.NextAttemptAt = now
		}
		out[i] = r
	}
	return out, nil
}

// Rows is what both SQL stores' query results offer.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// CollectDeliveryDays folds rows of (day, status, count), in day order,
// into DeliveryDays.
func CollectDeliveryDays(rows Rows) ([]DeliveryDay, error) {
	var out []DeliveryDay
	for rows.Next() {
		var day, status string
		var n int64
		if err := rows.Scan(&day, &status, &n); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Day != day {
			out = append(out, DeliveryDay{Day: day, Counts: map[string]int64{}})
		}
		out[len(out)-1].Counts[status] = n
	}
	return out, rows.Err()
}
