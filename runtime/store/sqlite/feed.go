package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

var _ store.Deliveries = (*Store)(nil)

// The feed follows seq. SQLite has one writer at a time, so a row with a
// lower seq always committed before one with a higher seq: nothing can
// appear behind a position already fed, and the position is (0, seq).
// seq is AUTOINCREMENT (migration 0002), so a deleted row's seq is never
// handed out again, and a superseding event is a new row with a new seq.

// startSQL is where a cursor since ?2 starts for site ?1: just below the
// first event received since then, or after every event stored so far.
const startSQL = `SELECT coalesce(
    (SELECT min(seq) FROM events WHERE site = ?1 AND received_at >= ?2),
    (SELECT coalesce(max(seq), 0) + 1 FROM events)) - 1`

// feedSQL reads the events after seq ?2 of site ?1 received since ?3, in
// seq order (?4 limit). INDEXED BY keeps the planner on the (site, seq)
// index, which serves both the range and the order, where the (site,
// received_at) one would sort every event since ?3.
const feedSQL = `SELECT ` + store.EventColumns + `, ip_sealed, seq
FROM events INDEXED BY events_site_seq_idx
WHERE site = ?1 AND seq > ?2 AND received_at >= ?3
ORDER BY seq
LIMIT ?4`

// OpenCursor creates or resets a destination's cursor; see store.Deliveries.
func (s *Store) OpenCursor(ctx context.Context, site, destination string, since time.Time, reset bool) (bool, error) {
	created, err := s.openCursor(ctx, site, destination, since, reset)
	if err != nil {
		return false, fmt.Errorf("while opening the cursor of %s/%s: %w", site, destination, classify(err))
	}
	return created, nil
}

func (s *Store) openCursor(ctx context.Context, site, destination string, since time.Time, reset bool) (bool, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM forward_cursors WHERE site = ? AND destination = ?)`,
		site, destination).Scan(&exists); err != nil {
		return false, err
	}
	if exists && !reset {
		return false, nil
	}
	var start int64
	if err := tx.QueryRowContext(ctx, startSQL, site, micros(since)).Scan(&start); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO forward_cursors (site, destination, pos_a, pos_b, since) VALUES (?1, ?2, 0, ?3, ?4)
ON CONFLICT (site, destination) DO UPDATE SET pos_a = excluded.pos_a, pos_b = excluded.pos_b, since = excluded.since`,
		site, destination, start, micros(since)); err != nil {
		return false, err
	}
	return !exists, tx.Commit()
}

// Feed returns the events after the destination's cursor; see
// store.Deliveries.
func (s *Store) Feed(ctx context.Context, site, destination string, limit int) ([]event.Event, store.FeedPosition, error) {
	pos, since, err := s.cursor(ctx, site, destination)
	if err != nil || limit <= 0 {
		return nil, pos, err
	}
	return s.feed(ctx, site, destination, pos, since, limit)
}

// FeedFrom returns the events after pos; see store.Deliveries.
func (s *Store) FeedFrom(ctx context.Context, site, destination string, pos store.FeedPosition, limit int) ([]event.Event, store.FeedPosition, error) {
	_, since, err := s.cursor(ctx, site, destination)
	if err != nil || limit <= 0 {
		return nil, pos, err
	}
	return s.feed(ctx, site, destination, pos, since, limit)
}

// cursor reads a destination's cursor: its position and since (unix µs).
func (s *Store) cursor(ctx context.Context, site, destination string) (store.FeedPosition, int64, error) {
	var (
		pos   store.FeedPosition
		since int64
	)
	err := s.reader.QueryRowContext(ctx, `SELECT pos_a, pos_b, since FROM forward_cursors WHERE site = ? AND destination = ?`,
		site, destination).Scan(&pos.A, &pos.B, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return pos, 0, fmt.Errorf("while feeding %s/%s: %w", site, destination, store.ErrNoCursor)
	}
	if err != nil {
		return pos, 0, fmt.Errorf("while reading the cursor of %s/%s: %w", site, destination, classify(err))
	}
	return pos, since, nil
}

// feed reads up to limit events after pos received since then.
func (s *Store) feed(ctx context.Context, site, destination string, pos store.FeedPosition, since int64, limit int) ([]event.Event, store.FeedPosition, error) {
	rows, err := s.reader.QueryContext(ctx, feedSQL, site, pos.B, since, limit)
	if err != nil {
		return nil, pos, fmt.Errorf("while feeding %s/%s: %w", site, destination, classify(err))
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		var sc eventScan
		if err := rows.Scan(append(sc.dest(), &sc.e.RawIPSealed, &pos.B)...); err != nil {
			return nil, pos, fmt.Errorf("while reading the feed of %s/%s: %w", site, destination, classify(err))
		}
		e, err := sc.event()
		if err != nil {
			return nil, pos, fmt.Errorf("while reading the feed of %s/%s: %w", site, destination, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, pos, fmt.Errorf("while reading the feed of %s/%s: %w", site, destination, classify(err))
	}
	return out, pos, nil
}

// trackSQL stores one new delivery record with the source of the event it
// was made for: a record made for a browser event is replaced when a
// server event superseded it and is fed again; every other repeat keeps
// the record, so nothing is sent twice. The source is the stored event's,
// unless its seq lies past ?12, the position Track moves to: then what was
// fed was the browser event it superseded after Feed read it (only browser
// events are superseded). received_at is the stored event's too.
const trackSQL = `
INSERT INTO deliveries (site, destination, event_id, status, send_as, reason, attempts, response_id,
                        next_attempt_at, received_at, updated_at, source)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
ON CONFLICT (site, destination, event_id) DO UPDATE SET
    status = excluded.status, send_as = excluded.send_as, reason = excluded.reason,
    attempts = excluded.attempts, response_id = excluded.response_id,
    next_attempt_at = excluded.next_attempt_at, received_at = excluded.received_at,
    updated_at = excluded.updated_at, source = excluded.source
    WHERE deliveries.source = 'browser' AND excluded.source = 'server'`

// Track records deliveries and moves the cursor, in one transaction; see
// store.Deliveries.
func (s *Store) Track(ctx context.Context, site, destination string, records []store.Delivery, pos store.FeedPosition) ([]string, error) {
	now := time.Now()
	recs, err := store.NewRecords(records, now)
	if err != nil {
		return nil, fmt.Errorf("while tracking deliveries of %s/%s: %w", site, destination, err)
	}
	tracked, err := s.track(ctx, site, destination, recs, pos, now)
	if err != nil {
		return nil, fmt.Errorf("while tracking %d deliveries of %s/%s: %w", len(recs), site, destination, classify(err))
	}
	return tracked, nil
}

func (s *Store) track(ctx context.Context, site, destination string, recs []store.Delivery, pos store.FeedPosition, now time.Time) ([]string, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE forward_cursors SET pos_a = ?, pos_b = ? WHERE site = ? AND destination = ?`,
		pos.A, pos.B, site, destination)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 0 {
		return nil, store.ErrNoCursor
	}
	tracked, err := insertRecords(ctx, tx, site, destination, recs, now)
	if err != nil {
		return nil, err
	}
	return tracked, tx.Commit()
}

// insertRecords stores records in tx with trackSQL and returns the ids of
// those it created or replaced.
func insertRecords(ctx context.Context, tx *sql.Tx, site, destination string, recs []store.Delivery, now time.Time) ([]string, error) {
	stmt, err := tx.PrepareContext(ctx, trackSQL)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	var tracked []string
	for _, r := range recs {
		res, err := stmt.ExecContext(ctx, site, destination, r.EventID, r.Status, r.SendAs, r.Reason, r.Attempts, r.ResponseID,
			micros(r.NextAttemptAt), micros(r.ReceivedAt), micros(now), string(r.Source))
		if err != nil {
			return nil, fmt.Errorf("while recording event %q: %w", r.EventID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n > 0 {
			tracked = append(tracked, r.EventID)
		}
	}
	return tracked, nil
}

// Settle stores records and moves the cursor, in one transaction; see
// store.Deliveries.
func (s *Store) Settle(ctx context.Context, site, destination string, records []store.Delivery, move *store.CursorMove) error {
	now := time.Now()
	recs, err := store.SettledRecords(records, now)
	if err != nil {
		return fmt.Errorf("while settling deliveries of %s/%s: %w", site, destination, err)
	}
	if len(recs) == 0 && move == nil {
		return nil
	}
	moved, err := s.settle(ctx, site, destination, recs, move, now)
	if err != nil {
		return fmt.Errorf("while settling %d deliveries of %s/%s: %w", len(recs), site, destination, classify(err))
	}
	if !moved {
		return fmt.Errorf("while settling deliveries of %s/%s: %w", site, destination, store.ErrCursorMoved)
	}
	return nil
}

// settle stores recs and moves the cursor; it reports false when the
// cursor was not at move.From, and so stayed.
func (s *Store) settle(ctx context.Context, site, destination string, recs []store.Delivery, move *store.CursorMove, now time.Time) (bool, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	moved := true
	if move != nil {
		res, err := tx.ExecContext(ctx, `UPDATE forward_cursors SET pos_a = ?, pos_b = ?
WHERE site = ? AND destination = ? AND pos_a = ? AND pos_b = ?`,
			move.To.A, move.To.B, site, destination, move.From.A, move.From.B)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, err
		}
		moved = n == 1
	}
	if _, err := insertRecords(ctx, tx, site, destination, recs, now); err != nil {
		return false, err
	}
	return moved, tx.Commit()
}

// Recorded returns which events have a record; see store.Deliveries.
func (s *Store) Recorded(ctx context.Context, site, destination string, eventIDs []string) (map[string]event.Source, error) {
	out := map[string]event.Source{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	ids, _ := json.Marshal(eventIDs)
	rows, err := s.reader.QueryContext(ctx, `SELECT event_id, source FROM deliveries
WHERE site = ?1 AND destination = ?2 AND event_id IN (SELECT value FROM json_each(?3))`, site, destination, string(ids))
	if err != nil {
		return nil, fmt.Errorf("while looking up records of %s/%s: %w", site, destination, classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id, source string
		if err := rows.Scan(&id, &source); err != nil {
			return nil, fmt.Errorf("while looking up records of %s/%s: %w", site, destination, classify(err))
		}
		out[id] = event.Source(source)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while looking up records of %s/%s: %w", site, destination, classify(err))
	}
	return out, nil
}
