package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// deliveryColumns are the deliveries columns every read of records scans
// (deliveryScan), in order.
const deliveryColumns = `event_id, status, send_as, reason, attempts, response_id, next_attempt_at, received_at, updated_at`

// dueSQL lists a destination's due pending records, oldest event first
// (?1 site, ?2 destination, ?3 now, ?4 limit), through the partial
// deliveries_due_idx, with the seq of each one's event (NULL when gone).
const dueSQL = `SELECT d.event_id, d.status, d.send_as, d.reason, d.attempts, d.response_id,
       d.next_attempt_at, d.received_at, d.updated_at, e.seq
FROM deliveries d INDEXED BY deliveries_due_idx
LEFT JOIN events e ON e.site = d.site AND e.event_id = d.event_id
WHERE d.site = ?1 AND d.destination = ?2 AND d.status = 'pending' AND d.next_attempt_at <= ?3
ORDER BY d.received_at
LIMIT ?4`

// dueEventsSQL reads the events of due records by seq (?1, a JSON array).
const dueEventsSQL = `SELECT ` + store.EventColumns + `, ip_sealed, seq
FROM events WHERE seq IN (SELECT value FROM json_each(?1))`

// skipGoneSQL marks skipped the pending records of ?3 (a JSON array of
// event ids) whose event is gone.
const skipGoneSQL = `UPDATE deliveries SET status = 'skipped', reason = 'event deleted', updated_at = ?4
WHERE site = ?1 AND destination = ?2 AND status = 'pending' AND event_id IN (SELECT value FROM json_each(?3))
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.site = ?1 AND e.event_id = deliveries.event_id)`

// deliveryScan holds one row of deliveryColumns while it is scanned.
type deliveryScan struct {
	d                       store.Delivery
	next, received, updated int64
}

func (sc *deliveryScan) dest() []any {
	d := &sc.d
	return []any{&d.EventID, &d.Status, &d.SendAs, &d.Reason, &d.Attempts, &d.ResponseID, &sc.next, &sc.received, &sc.updated}
}

func (sc *deliveryScan) delivery(site, destination string) store.Delivery {
	d := sc.d
	d.Site, d.Destination = site, destination
	d.NextAttemptAt, d.ReceivedAt, d.UpdatedAt = time.UnixMicro(sc.next).UTC(), time.UnixMicro(sc.received).UTC(), time.UnixMicro(sc.updated).UTC()
	return d
}

// Due returns the due pending deliveries with their events; see
// store.Deliveries. It reads on a reader connection and takes the writer
// only when a record's event is gone.
func (s *Store) Due(ctx context.Context, site, destination string, now time.Time, limit int) ([]store.PendingDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	out, err := s.due(ctx, site, destination, now, limit)
	if err != nil {
		return nil, fmt.Errorf("while listing due deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return out, nil
}

func (s *Store) due(ctx context.Context, site, destination string, now time.Time, limit int) ([]store.PendingDelivery, error) {
	rows, err := s.reader.QueryContext(ctx, dueSQL, site, destination, micros(now), limit)
	if err != nil {
		return nil, err
	}
	var (
		found []store.PendingDelivery
		seqs  []int64
		gone  []string
	)
	for rows.Next() {
		var (
			sc  deliveryScan
			seq sql.NullInt64
		)
		if err := rows.Scan(append(sc.dest(), &seq)...); err != nil {
			rows.Close()
			return nil, err
		}
		if !seq.Valid {
			gone = append(gone, sc.d.EventID)
			continue
		}
		found = append(found, store.PendingDelivery{Delivery: sc.delivery(site, destination)})
		seqs = append(seqs, seq.Int64)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	if len(gone) > 0 {
		ids, _ := json.Marshal(gone)
		if _, err := s.writer.ExecContext(ctx, skipGoneSQL, site, destination, string(ids), micros(time.Now())); err != nil {
			return nil, fmt.Errorf("while skipping records of deleted events: %w", err)
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	events, err := s.eventsBySeq(ctx, seqs)
	if err != nil {
		return nil, err
	}
	kept := found[:0]
	for i, p := range found {
		if e, ok := events[seqs[i]]; ok { // deleted since the first read: next time
			p.Event = e
			kept = append(kept, p)
		}
	}
	return kept, nil
}

// eventsBySeq reads events, with their sealed raw IP, by seq.
func (s *Store) eventsBySeq(ctx context.Context, seqs []int64) (map[int64]event.Event, error) {
	list, _ := json.Marshal(seqs)
	rows, err := s.reader.QueryContext(ctx, dueEventsSQL, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]event.Event, len(seqs))
	for rows.Next() {
		var (
			sc  eventScan
			seq int64
		)
		if err := rows.Scan(append(sc.dest(), &sc.e.RawIPSealed, &seq)...); err != nil {
			return nil, err
		}
		e, err := sc.event()
		if err != nil {
			return nil, err
		}
		out[seq] = e
	}
	return out, rows.Err()
}

// Record stores the outcomes of attempts; see store.Deliveries. A record
// with no delivery (its event's record was never tracked) changes nothing.
func (s *Store) Record(ctx context.Context, site, destination string, records []store.Delivery) error {
	now := time.Now()
	recs, err := store.Outcomes(records, now)
	if err != nil {
		return fmt.Errorf("while recording deliveries of %s/%s: %w", site, destination, err)
	}
	if len(recs) == 0 {
		return nil
	}
	if err := s.record(ctx, site, destination, recs, now); err != nil {
		return fmt.Errorf("while recording %d deliveries of %s/%s: %w", len(recs), site, destination, classify(err))
	}
	return nil
}

func (s *Store) record(ctx context.Context, site, destination string, recs []store.Delivery, now time.Time) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries SET status = ?, reason = ?, attempts = ?, response_id = ?,
    next_attempt_at = ?, updated_at = ?
WHERE site = ? AND destination = ? AND event_id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range recs {
		if _, err := stmt.ExecContext(ctx, r.Status, r.Reason, r.Attempts, r.ResponseID, micros(r.NextAttemptAt), micros(now),
			site, destination, r.EventID); err != nil {
			return fmt.Errorf("while recording event %q: %w", r.EventID, err)
		}
	}
	return tx.Commit()
}

// ListDeliveries returns records, most recently updated first; see
// store.Deliveries.
func (s *Store) ListDeliveries(ctx context.Context, site, destination, status string, limit int) ([]store.Delivery, error) {
	if status != "" && !store.ValidDeliveryStatus(status) {
		return nil, fmt.Errorf("while listing deliveries of %s/%s: %w: unknown status %q", site, destination, store.ErrInvalidDelivery, status)
	}
	if limit <= 0 {
		return nil, nil
	}
	q := `SELECT ` + deliveryColumns + ` FROM deliveries WHERE site = ?1 AND destination = ?2`
	args := []any{site, destination, limit}
	if status != "" {
		q += ` AND status = ?4`
		args = append(args, status)
	}
	rows, err := s.reader.QueryContext(ctx, q+` ORDER BY updated_at DESC, event_id LIMIT ?3`, args...)
	if err != nil {
		return nil, fmt.Errorf("while listing deliveries of %s/%s: %w", site, destination, classify(err))
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		var sc deliveryScan
		if err := rows.Scan(sc.dest()...); err != nil {
			return nil, fmt.Errorf("while reading deliveries of %s/%s: %w", site, destination, classify(err))
		}
		out = append(out, sc.delivery(site, destination))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return out, nil
}

// Reclaim makes a dead run's leased records due; see store.Deliveries.
func (s *Store) Reclaim(ctx context.Context, site, destination string, now time.Time) (int, error) {
	res, err := s.writer.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = ?3
WHERE site = ?1 AND destination = ?2 AND status = 'pending' AND attempts = 0 AND next_attempt_at > ?3`,
		site, destination, micros(now))
	if err != nil {
		return 0, fmt.Errorf("while reclaiming deliveries of %s/%s: %w", site, destination, classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("while reclaiming deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return int(n), nil
}

// Replay makes failed deliveries pending again; see store.Deliveries.
func (s *Store) Replay(ctx context.Context, site, destination, eventID string) (int, error) {
	now := micros(time.Now())
	q := `UPDATE deliveries SET status = 'pending', attempts = 0, reason = '', next_attempt_at = ?3, updated_at = ?3
WHERE site = ?1 AND destination = ?2 AND status = 'failed'`
	args := []any{site, destination, now}
	if eventID != "" {
		q += ` AND event_id = ?4`
		args = append(args, eventID)
	}
	res, err := s.writer.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("while replaying deliveries of %s/%s: %w", site, destination, classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("while replaying deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return int(n), nil
}

// DeliveryStats summarizes the destination's records; see
// store.Deliveries. Counts has every status, zero when there is none.
func (s *Store) DeliveryStats(ctx context.Context, site, destination string) (store.DeliveryStats, error) {
	st := store.DeliveryStats{Counts: map[string]int64{
		store.DeliveryPending: 0, store.DeliverySent: 0, store.DeliverySkipped: 0, store.DeliveryFailed: 0,
	}}
	rows, err := s.reader.QueryContext(ctx, `SELECT status, count(*), min(received_at) FROM deliveries
WHERE site = ? AND destination = ? GROUP BY status`, site, destination)
	if err != nil {
		return st, fmt.Errorf("while summarizing deliveries of %s/%s: %w", site, destination, classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status    string
			n, oldest int64
		)
		if err := rows.Scan(&status, &n, &oldest); err != nil {
			return st, fmt.Errorf("while summarizing deliveries of %s/%s: %w", site, destination, classify(err))
		}
		st.Counts[status] = n
		if status == store.DeliveryPending {
			st.Pending, st.OldestPending = n, time.UnixMicro(oldest).UTC()
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("while summarizing deliveries of %s/%s: %w", site, destination, classify(err))
	}
	return st, nil
}

// forgetRawIPsSQL clears the sealed raw IP of events (?1 site, ?2 a JSON
// array of event ids) that have a final record at each of ?3 (a JSON array
// of ?4 destinations, without repeats).
const forgetRawIPsSQL = `UPDATE events SET ip_sealed = NULL
WHERE site = ?1 AND event_id IN (SELECT value FROM json_each(?2)) AND ip_sealed IS NOT NULL
  AND (SELECT count(*) FROM deliveries d
       WHERE d.site = ?1 AND d.event_id = events.event_id AND d.status <> 'pending'
         AND d.destination IN (SELECT value FROM json_each(?3))) = ?4`

// ForgetRawIPs drops sealed raw IPs that every named destination is done
// with; see store.Deliveries. With no destinations named it drops
// nothing: dropping is for good, and an empty list is more likely a
// caller's slip than a site where no destination needs the IP.
func (s *Store) ForgetRawIPs(ctx context.Context, site string, eventIDs, destinations []string) error {
	if len(eventIDs) == 0 || len(destinations) == 0 {
		return nil
	}
	dests := slices.Compact(slices.Sorted(slices.Values(destinations)))
	ids, err := json.Marshal(eventIDs)
	if err != nil {
		return fmt.Errorf("while forgetting raw IPs of site %q: %w", site, err)
	}
	names, err := json.Marshal(dests)
	if err != nil {
		return fmt.Errorf("while forgetting raw IPs of site %q: %w", site, err)
	}
	if _, err := s.writer.ExecContext(ctx, forgetRawIPsSQL, site, string(ids), string(names), len(dests)); err != nil {
		return fmt.Errorf("while forgetting raw IPs of %d events of site %q: %w", len(eventIDs), site, classify(err))
	}
	return nil
}

// OrderConversion returns the sale an order id names; see
// store.Deliveries. The partial (site, order_id) index finds it.
func (s *Store) OrderConversion(ctx context.Context, site, orderID string) (event.Event, bool, error) {
	if orderID == "" {
		return event.Event{}, false, nil
	}
	e, err := scanEvent(s.reader.QueryRowContext(ctx, store.SelectEvents+` INDEXED BY events_site_order_id_idx
WHERE site = ? AND order_id = ? AND value > 0 ORDER BY received_at DESC, seq DESC LIMIT 1`, site, orderID))
	if errors.Is(err, sql.ErrNoRows) {
		return event.Event{}, false, nil
	}
	if err != nil {
		return event.Event{}, false, fmt.Errorf("while finding order %q of site %q: %w", orderID, site, classify(err))
	}
	return e, true, nil
}

// DeliveryDays counts records per day and status; see store.Deliveries.
func (s *Store) DeliveryDays(ctx context.Context, site, destination string, from, to time.Time) ([]store.DeliveryDay, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT date(received_at / 1000000, 'unixepoch') AS day, status, count(*)
FROM deliveries WHERE site = ?1 AND destination = ?2 AND received_at >= ?3 AND received_at < ?4
GROUP BY 1, 2 ORDER BY 1`, site, destination, micros(from), micros(to))
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
