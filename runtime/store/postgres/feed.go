package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

var _ store.Deliveries = (*Store)(nil)

// The feed follows (txid, seq): txid is the id of the transaction that
// inserted the row, seq its place within it. Collectors commit out of
// order, so a row can become visible after rows with a higher position
// were fed; reading only below the xmin of the snapshot (the oldest
// transaction still running) rules that out, because every transaction
// below it has ended, and an ended transaction adds no rows. A transaction
// that stays open holds the feed back, including everything after it; xmin
// is the whole cluster's, so a long write transaction in any database
// delays forwarding (never loses events) until it ends.

// openCursorSQL creates a destination's cursor ($1 site, $2 destination,
// $3 since), or moves it back when $4 (reset) is true; it returns whether
// the row is new. The start is just below the oldest transaction that
// stored an event of the site received since $3, or below the transactions
// still running, whichever is lower: those may yet add such events. Feed
// skips older events by received_at, so the first Feed does not read the
// site's history. seq is never below 1, so (txid, 0) is just below every
// row of txid. OFFSET 0 keeps the planner from finding the lowest txid
// by walking the (site, txid, seq) index from the site's first event: the
// events since $3 are found by received_at. ORDER BY needs only xid8's
// btree ordering, which every version with xid8 (13 on) has.
const openCursorSQL = `
INSERT INTO forward_cursors AS c (site, destination, pos_a, pos_b, since)
SELECT $1, $2, least(
        (SELECT txid FROM (SELECT txid FROM events WHERE site = $1 AND received_at >= $3 OFFSET 0) since
         ORDER BY txid LIMIT 1),
        pg_snapshot_xmin(pg_current_snapshot()))::text::bigint,
    0, $3
ON CONFLICT (site, destination) DO UPDATE SET pos_a = EXCLUDED.pos_a, pos_b = EXCLUDED.pos_b, since = EXCLUDED.since
    WHERE $4::boolean
RETURNING xmax = 0`

const cursorSQL = `SELECT pos_a, pos_b, since FROM forward_cursors WHERE site = $1 AND destination = $2`

// feedSQL reads the events after a position ($1 site, $2 and $3 the
// position, $4 the cursor's since, $5 limit) in the order of the (site,
// txid, seq) index, stopping at the snapshot's xmin (see above). The plan
// test EXPLAINs this very statement. The position is named apart from
// txid so that ORDER BY means the column, which the index holds, not the
// bigint.
const feedSQL = `SELECT ` + store.EventColumns + `, ip_sealed, txid::text::bigint AS pos_a, seq AS pos_b
FROM events
WHERE site = $1 AND (txid, seq) > ($2::bigint::text::xid8, $3::bigint)
  AND txid < pg_snapshot_xmin(pg_current_snapshot())
  AND received_at >= $4
ORDER BY txid, seq
LIMIT $5`

// feedPlanSQL makes the planner read the feed through the index, in its
// order. On a day partition whose statistics lag (a new day, a burst of
// inserts) it estimates a handful of rows and picks a bitmap scan of
// everything after the cursor plus a sort, which spilled to disk and took
// 80 ms for a page of 2,000 out of 20,000 rows. Without sorts and bitmap
// scans the one plan left is the ordered index scan, right at any size.
const feedPlanSQL = `SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)`

// OpenCursor creates or resets a destination's cursor; see store.Deliveries.
func (s *Store) OpenCursor(ctx context.Context, site, destination string, since time.Time, reset bool) (bool, error) {
	var created bool
	err := s.pool.QueryRow(ctx, openCursorSQL, site, destination, since, reset).Scan(&created)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // exists, and no reset asked for
	}
	if err != nil {
		return false, fmt.Errorf("while opening the cursor of %s/%s: %w", site, destination, classify(err))
	}
	return created, nil
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

// cursor reads a destination's cursor: its position and since.
func (s *Store) cursor(ctx context.Context, site, destination string) (store.FeedPosition, time.Time, error) {
	var (
		pos   store.FeedPosition
		since time.Time
	)
	err := s.pool.QueryRow(ctx, cursorSQL, site, destination).Scan(&pos.A, &pos.B, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return pos, since, fmt.Errorf("while feeding %s/%s: %w", site, destination, store.ErrNoCursor)
	}
	if err != nil {
		return pos, since, fmt.Errorf("while reading the cursor of %s/%s: %w", site, destination, classify(err))
	}
	return pos, since, nil
}

// feed reads up to limit events after pos received since then.
func (s *Store) feed(ctx context.Context, site, destination string, pos store.FeedPosition, since time.Time, limit int) ([]event.Event, store.FeedPosition, error) {
	var out []event.Event
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, feedPlanSQL); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, feedSQL, site, pos.A, pos.B, since, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		// One scan target for every row: a page is thousands of rows,
		// and each fresh one would cost two allocations of ~700 bytes.
		var sc eventScan
		dest := append(sc.dest(), &sc.e.RawIPSealed, &pos.A, &pos.B)
		for rows.Next() {
			sc = eventScan{}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			e, err := sc.event()
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, pos, fmt.Errorf("while reading the feed of %s/%s: %w", site, destination, classify(err))
	}
	return out, pos, nil
}

// moveCursorSQL sets a cursor's position ($1 site, $2 destination, $3 and
// $4 the position).
const moveCursorSQL = `UPDATE forward_cursors SET pos_a = $3, pos_b = $4 WHERE site = $1 AND destination = $2`

// advanceCursorSQL moves a cursor ($1 site, $2 destination) from one
// position ($5, $6) to another ($3, $4), and only from there.
const advanceCursorSQL = moveCursorSQL + ` AND pos_a = $5 AND pos_b = $6`

// insertRecordsSQL stores delivery records ($1 site, $2 destination, then one
// array per field), each with the source of the event it was made for: a
// record made for a browser event is replaced when a server event
// superseded it and is fed again; every other repeat keeps the record, so
// nothing is sent twice. Rows are inserted in key order so that two
// concurrent writers lock them in the same order. It reads no event: the
// records carry what the feed gave.
const insertRecordsSQL = `
INSERT INTO deliveries AS d (site, destination, event_id, status, send_as, reason, attempts, response_id,
                             next_attempt_at, received_at, updated_at, source)
SELECT $1, $2, r.event_id, r.status, r.send_as, r.reason, r.attempts, r.response_id,
       r.next_attempt_at, r.received_at, now(), r.source
FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[])
         AS r(event_id, status, send_as, reason, attempts, response_id, next_attempt_at, received_at, source)
ORDER BY r.event_id
ON CONFLICT (site, destination, event_id) DO UPDATE SET
    status = EXCLUDED.status, send_as = EXCLUDED.send_as, reason = EXCLUDED.reason,
    attempts = EXCLUDED.attempts, response_id = EXCLUDED.response_id,
    next_attempt_at = EXCLUDED.next_attempt_at, received_at = EXCLUDED.received_at,
    updated_at = EXCLUDED.updated_at, source = EXCLUDED.source
    WHERE d.source = 'browser' AND EXCLUDED.source = 'server'`

// trackSQL stores new delivery records as insertRecordsSQL does and
// returns the ids of those it created or replaced.
const trackSQL = insertRecordsSQL + `
RETURNING event_id`

// Track records deliveries and moves the cursor, in one transaction; see
// store.Deliveries.
func (s *Store) Track(ctx context.Context, site, destination string, records []store.Delivery, pos store.FeedPosition) ([]string, error) {
	recs, err := store.NewRecords(records, s.now())
	if err != nil {
		return nil, fmt.Errorf("while tracking deliveries of %s/%s: %w", site, destination, err)
	}
	cols := newDeliveryColumns(recs)
	var tracked []string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, moveCursorSQL, site, destination, pos.A, pos.B)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNoCursor
		}
		if len(recs) == 0 {
			return nil
		}
		rows, err := tx.Query(ctx, trackSQL, site, destination, cols.ids, cols.statuses, cols.sendAs, cols.reasons,
			cols.attempts, cols.responseIDs, cols.next, cols.received, cols.sources)
		if err != nil {
			return err
		}
		tracked, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("while tracking %d deliveries of %s/%s: %w", len(recs), site, destination, classify(err))
	}
	return tracked, nil
}

// recordedSQL returns which of the event ids $3 have a record at a
// destination ($1 site, $2 destination), with their source: one primary
// key lookup per id. The LIMIT keeps the lookup from being flattened into
// a join, for which the planner prefers reading every record of the
// table once a page has a few thousand ids. The plan test EXPLAINs this
// very statement.
const recordedSQL = `SELECT k.event_id, d.source
FROM unnest($3::text[]) AS k(event_id) CROSS JOIN LATERAL (
    SELECT source FROM deliveries
    WHERE site = $1 AND destination = $2 AND event_id = k.event_id
    LIMIT 1) d`

// Recorded returns which events have a record; see store.Deliveries.
func (s *Store) Recorded(ctx context.Context, site, destination string, eventIDs []string) (map[string]event.Source, error) {
	out := map[string]event.Source{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, recordedSQL, site, destination, eventIDs)
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

// Settle stores records and moves the cursor, in one transaction; see
// store.Deliveries.
func (s *Store) Settle(ctx context.Context, site, destination string, records []store.Delivery, move *store.CursorMove) error {
	recs, err := store.SettledRecords(records, s.now())
	if err != nil {
		return fmt.Errorf("while settling deliveries of %s/%s: %w", site, destination, err)
	}
	if len(recs) == 0 && move == nil {
		return nil
	}
	cols := newDeliveryColumns(recs)
	moved := true
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if move != nil {
			tag, err := tx.Exec(ctx, advanceCursorSQL, site, destination, move.To.A, move.To.B, move.From.A, move.From.B)
			if err != nil {
				return err
			}
			moved = tag.RowsAffected() == 1
		}
		if len(recs) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, insertRecordsSQL, site, destination, cols.ids, cols.statuses, cols.sendAs, cols.reasons,
			cols.attempts, cols.responseIDs, cols.next, cols.received, cols.sources)
		return err
	})
	if err != nil {
		return fmt.Errorf("while settling %d deliveries of %s/%s: %w", len(recs), site, destination, classify(err))
	}
	if !moved {
		return fmt.Errorf("while settling deliveries of %s/%s: %w", site, destination, store.ErrCursorMoved)
	}
	return nil
}

// deliveryColumns are records as one array per field, as the statements
// that take many records at once bind them.
type deliveryColumns struct {
	ids, statuses, sendAs, reasons, responseIDs, sources []string
	attempts                                             []int32
	next, received                                       []time.Time
}

func newDeliveryColumns(recs []store.Delivery) deliveryColumns {
	n := len(recs)
	c := deliveryColumns{
		ids: make([]string, 0, n), statuses: make([]string, 0, n), sendAs: make([]string, 0, n),
		reasons: make([]string, 0, n), responseIDs: make([]string, 0, n), sources: make([]string, 0, n),
		attempts: make([]int32, 0, n), next: make([]time.Time, 0, n), received: make([]time.Time, 0, n),
	}
	for _, r := range recs {
		c.ids = append(c.ids, r.EventID)
		c.statuses = append(c.statuses, r.Status)
		c.sendAs = append(c.sendAs, r.SendAs)
		c.reasons = append(c.reasons, r.Reason)
		c.attempts = append(c.attempts, int32(r.Attempts))
		c.responseIDs = append(c.responseIDs, r.ResponseID)
		c.next = append(c.next, r.NextAttemptAt)
		c.received = append(c.received, r.ReceivedAt)
		c.sources = append(c.sources, string(r.Source))
	}
	return c
}
