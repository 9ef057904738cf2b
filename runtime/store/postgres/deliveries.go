package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// deliveryColumnsSQL are the deliveries columns every read of records
// scans (scanDelivery), in order.
const deliveryColumnsSQL = `event_id, status, send_as, reason, attempts, response_id, next_attempt_at, received_at, updated_at`

// dueSQL returns a destination's due pending records, oldest event first
// ($1 site, $2 destination, $3 now, $4 limit), read through the partial
// deliveries_due_idx, each with its event found by received_at (which
// picks the partition) and event_id, and its sealed raw IP: one index
// lookup per record. Records whose event is gone are marked skipped in the
// same statement, by primary key from an array, so that no plan can pair
// every record of the destination with every due one (a fresh table
// without statistics once made that take minutes). The plan test EXPLAINs
// this very statement.
const dueSQL = `
WITH due AS (
    SELECT ` + deliveryColumnsSQL + `
    FROM deliveries
    WHERE site = $1 AND destination = $2 AND status = 'pending' AND next_attempt_at <= $3
    ORDER BY received_at
    LIMIT $4
), gone AS (
    UPDATE deliveries d SET status = 'skipped', reason = 'event deleted', updated_at = now()
    WHERE d.site = $1 AND d.destination = $2
      AND d.event_id = ANY(ARRAY(
          SELECT due.event_id FROM due
          WHERE (SELECT true FROM events e
                 WHERE e.site = $1 AND e.received_at = due.received_at AND e.event_id = due.event_id LIMIT 1) IS NULL))
)
SELECT due.*, e.*
FROM due CROSS JOIN LATERAL (
    SELECT ` + store.EventColumns + `, ip_sealed
    FROM events
    WHERE site = $1 AND received_at = due.received_at AND event_id = due.event_id
    LIMIT 1) e
ORDER BY due.received_at`

// Due returns the due pending deliveries with their events; see
// store.Deliveries.
func (s *Store) Due(ctx context.Context, site, destination string, now time.Time, limit int) ([]store.PendingDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, dueSQL, site, destination, now, limit)
	if err != nil {
		return nil, fmt.Errorf("while listing due deliveries of %s/%s: %w", site, destination, classify(err))
	}
	defer rows.Close()
	var out []store.PendingDelivery
	for rows.Next() {
		p := store.PendingDelivery{Delivery: store.Delivery{Site: site, Destination: destination}}
		var sc eventScan
		dest := append(deliveryDest(&p.Delivery), sc.dest()...)
		if err := rows.Scan(append(dest, &sc.e.RawIPSealed)...); err != nil {
			return nil, fmt.Errorf("while reading due deliveries of %s/%s: %w", site, destination, classify(err))
		}
		if p.Event, err = sc.event(); err != nil {
			return nil, fmt.Errorf("while reading due deliveries of %s/%s: %w", site, destination, err)
		}
		utcDelivery(&p.Delivery)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading due deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return out, nil
}

// deliveryDest returns the scan destinations of deliveryColumnsSQL.
func deliveryDest(d *store.Delivery) []any {
	return []any{&d.EventID, &d.Status, &d.SendAs, &d.Reason, &d.Attempts, &d.ResponseID,
		&d.NextAttemptAt, &d.ReceivedAt, &d.UpdatedAt}
}

func utcDelivery(d *store.Delivery) {
	d.NextAttemptAt, d.ReceivedAt, d.UpdatedAt = d.NextAttemptAt.UTC(), d.ReceivedAt.UTC(), d.UpdatedAt.UTC()
}

// recordSQL stores outcomes ($1 site, $2 destination, then one array per
// field) in one statement.
const recordSQL = `
UPDATE deliveries d SET status = u.status, reason = u.reason, attempts = u.attempts,
    response_id = u.response_id, next_attempt_at = u.next_attempt_at, updated_at = now()
FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[])
         AS u(event_id, status, reason, attempts, response_id, next_attempt_at)
WHERE d.site = $1 AND d.destination = $2 AND d.event_id = u.event_id`

// Record stores the outcomes of attempts; see store.Deliveries. A record
// with no delivery (its event's record was never tracked) changes nothing.
func (s *Store) Record(ctx context.Context, site, destination string, records []store.Delivery) error {
	recs, err := store.Outcomes(records, s.now())
	if err != nil {
		return fmt.Errorf("while recording deliveries of %s/%s: %w", site, destination, err)
	}
	if len(recs) == 0 {
		return nil
	}
	c := newDeliveryColumns(recs)
	if _, err := s.pool.Exec(ctx, recordSQL, site, destination, c.ids, c.statuses, c.reasons, c.attempts, c.responseIDs, c.next); err != nil {
		return fmt.Errorf("while recording %d deliveries of %s/%s: %w", len(recs), site, destination, classify(err))
	}
	return nil
}

const (
	listDeliveriesSQL = `SELECT ` + deliveryColumnsSQL + ` FROM deliveries
WHERE site = $1 AND destination = $2 ORDER BY updated_at DESC, event_id LIMIT $3`
	listDeliveriesOfStatusSQL = `SELECT ` + deliveryColumnsSQL + ` FROM deliveries
WHERE site = $1 AND destination = $2 AND status = $4 ORDER BY updated_at DESC, event_id LIMIT $3`
)

// ListDeliveries returns records, most recently updated first; see
// store.Deliveries.
func (s *Store) ListDeliveries(ctx context.Context, site, destination, status string, limit int) ([]store.Delivery, error) {
	if status != "" && !store.ValidDeliveryStatus(status) {
		return nil, fmt.Errorf("while listing deliveries of %s/%s: %w: unknown status %q", site, destination, store.ErrInvalidDelivery, status)
	}
	if limit <= 0 {
		return nil, nil
	}
	q, args := listDeliveriesSQL, []any{site, destination, limit}
	if status != "" {
		q, args = listDeliveriesOfStatusSQL, append(args, status)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("while listing deliveries of %s/%s: %w", site, destination, classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Delivery, error) {
		d := store.Delivery{Site: site, Destination: destination}
		err := row.Scan(deliveryDest(&d)...)
		utcDelivery(&d)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("while reading deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return out, nil
}

// reclaimSQL makes leased, never attempted records due ($1 site, $2
// destination, $3 now).
const reclaimSQL = `UPDATE deliveries SET next_attempt_at = $3
WHERE site = $1 AND destination = $2 AND status = 'pending' AND attempts = 0 AND next_attempt_at > $3`

// Reclaim makes a dead run's leased records due; see store.Deliveries.
func (s *Store) Reclaim(ctx context.Context, site, destination string, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, reclaimSQL, site, destination, now)
	if err != nil {
		return 0, fmt.Errorf("while reclaiming deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return int(tag.RowsAffected()), nil
}

const (
	replaySQL = `UPDATE deliveries SET status = 'pending', attempts = 0, reason = '', next_attempt_at = $3, updated_at = now()
WHERE site = $1 AND destination = $2 AND status = 'failed'`
	replayOneSQL = replaySQL + ` AND event_id = $4`
)

// Replay makes failed deliveries pending again; see store.Deliveries.
func (s *Store) Replay(ctx context.Context, site, destination, eventID string) (int, error) {
	q, args := replaySQL, []any{site, destination, s.now()}
	if eventID != "" {
		q, args = replayOneSQL, append(args, eventID)
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("while replaying deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return int(tag.RowsAffected()), nil
}

const deliveryStatsSQL = `SELECT status, count(*), min(received_at) FROM deliveries
WHERE site = $1 AND destination = $2 GROUP BY status`

// DeliveryStats summarizes the destination's records; see
// store.Deliveries. Counts has every status, zero when there is none.
func (s *Store) DeliveryStats(ctx context.Context, site, destination string) (store.DeliveryStats, error) {
	st := store.DeliveryStats{Counts: map[string]int64{
		store.DeliveryPending: 0, store.DeliverySent: 0, store.DeliverySkipped: 0, store.DeliveryFailed: 0,
	}}
	rows, err := s.pool.Query(ctx, deliveryStatsSQL, site, destination)
	if err != nil {
		return st, fmt.Errorf("while summarizing deliveries of %s/%s: %w", site, destination, classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status string
			n      int64
			oldest time.Time
		)
		if err := rows.Scan(&status, &n, &oldest); err != nil {
			return st, fmt.Errorf("while summarizing deliveries of %s/%s: %w", site, destination, classify(err))
		}
		st.Counts[status] = n
		if status == store.DeliveryPending {
			st.Pending, st.OldestPending = n, oldest.UTC()
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("while summarizing deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return st, nil
}

// forgetRawIPsSQL clears the sealed raw IP of events ($1 site, $2 event
// ids) that have a final record at each of $3 (destinations, $4 of them,
// without repeats). event_ids gives each event's received_at, which picks
// its partition.
const forgetRawIPsSQL = `
UPDATE events e SET ip_sealed = NULL
FROM event_ids k
WHERE k.site = $1 AND k.event_id = ANY($2::text[])
  AND e.site = $1 AND e.received_at = k.received_at AND e.event_id = k.event_id
  AND e.ip_sealed IS NOT NULL
  AND (SELECT count(*) FROM deliveries d
       WHERE d.site = $1 AND d.destination = ANY($3::text[]) AND d.event_id = k.event_id
         AND d.status <> 'pending') = $4`

// ForgetRawIPs drops sealed raw IPs that every named destination is done
// with; see store.Deliveries. With no destinations named it drops
// nothing: dropping is for good, and an empty list is more likely a
// caller's slip than a site where no destination needs the IP.
func (s *Store) ForgetRawIPs(ctx context.Context, site string, eventIDs, destinations []string) error {
	if len(eventIDs) == 0 || len(destinations) == 0 {
		return nil
	}
	dests := slices.Compact(slices.Sorted(slices.Values(destinations)))
	if _, err := s.pool.Exec(ctx, forgetRawIPsSQL, site, eventIDs, dests, len(dests)); err != nil {
		return fmt.Errorf("while forgetting raw IPs of %d events of site %q: %w", len(eventIDs), site, classify(err))
	}
	return nil
}

// orderConversionSQL finds the newest event of a site ($1) with an order id
// ($2) and a positive value, through the partial (site, order_id) index.
const orderConversionSQL = store.SelectEvents + `
WHERE site = $1 AND order_id = $2 AND value > 0
ORDER BY received_at DESC, seq DESC
LIMIT 1`

// OrderConversion returns the sale an order id names; see
// store.Deliveries.
func (s *Store) OrderConversion(ctx context.Context, site, orderID string) (event.Event, bool, error) {
	if orderID == "" {
		return event.Event{}, false, nil
	}
	rows, err := s.pool.Query(ctx, orderConversionSQL, site, orderID)
	if err != nil {
		return event.Event{}, false, fmt.Errorf("while finding order %q of site %q: %w", orderID, site, classify(err))
	}
	e, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (event.Event, error) {
		var sc eventScan
		if err := row.Scan(sc.dest()...); err != nil {
			return event.Event{}, err
		}
		return sc.event()
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return event.Event{}, false, nil
	}
	if err != nil {
		return event.Event{}, false, fmt.Errorf("while finding order %q of site %q: %w", orderID, site, classify(err))
	}
	return e, true, nil
}

// deliveryDaysSQL counts records per UTC day and status ($1 site, $2
// destination, $3 and $4 the range of received_at).
const deliveryDaysSQL = `SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, status, count(*)
FROM deliveries WHERE site = $1 AND destination = $2 AND received_at >= $3 AND received_at < $4
GROUP BY 1, 2 ORDER BY 1`

// DeliveryDays counts records per day and status; see store.Deliveries.
func (s *Store) DeliveryDays(ctx context.Context, site, destination string, from, to time.Time) ([]store.DeliveryDay, error) {
	rows, err := s.pool.Query(ctx, deliveryDaysSQL, site, destination, from, to)
	if err != nil {
		return nil, fmt.Errorf("while counting deliveries of %s/%s per day: %w", site, destination, classify(err))
	}
	defer rows.Close()
	days, err := store.CollectDeliveryDays(rows)
	if err != nil {
		return nil, fmt.Errorf("while counting deliveries of %s/%s per day: %w", site, destination, classify(err))
	}
	return days, nil
}
