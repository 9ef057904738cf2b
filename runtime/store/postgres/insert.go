package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// claimIDs records the keys of a batch in event_ids and returns the input
// positions (1-based) of the keys that were new, as one array: one round
// trip, and no strings to scan back.
const claimIDs = `
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS t(site, event_id, received_at, ord)
), claimed AS (
    INSERT INTO event_ids (site, event_id, received_at)
    SELECT site, event_id, received_at FROM input
    ON CONFLICT DO NOTHING
    RETURNING site, event_id
)
SELECT coalesce(array_agg(input.ord), '{}') FROM input JOIN claimed USING (site, event_id)`

// maxPooledBuffer bounds the COPY buffers kept for reuse; a buffer grown
// by an unusually large batch is left to the garbage collector.
const maxPooledBuffer = 4 << 20

type key struct{ site, id string }

// Insert stores events in one transaction; see store.Store.
func (s *Store) Insert(ctx context.Context, events []event.Event) (int, error) {
	return s.InsertMarked(ctx, events, nil)
}

// InsertMarked is Insert that also reports which events were new: when
// inserted is not nil (it must then have len(events)), inserted[i] is set to
// whether events[i] was stored by this call. A key repeated within events
// is stored and marked at its first position only. On error no event is
// marked.
//
// One transaction, three round trips: BEGIN pipelined with the statement
// that claims the keys in event_ids, a binary COPY of the new events, and
// COMMIT.
func (s *Store) InsertMarked(ctx context.Context, events []event.Event, inserted []bool) (int, error) {
	if inserted != nil && len(inserted) != len(events) {
		return 0, fmt.Errorf("while inserting events: %d marks for %d events", len(inserted), len(events))
	}
	for i := range inserted {
		inserted[i] = false
	}
	if len(events) == 0 {
		return 0, nil
	}

	// Normalize, and drop repeats within the call (the first one wins).
	batch := make([]event.Event, 0, len(events))
	pos := make([]int, 0, len(events)) // batch index -> events index
	seen := make(map[key]struct{}, len(events))
	var days []int64
	for i := range events {
		e, err := store.Normalize(events[i])
		if err != nil {
			return 0, fmt.Errorf("while inserting event %d: %w", i, err)
		}
		k := key{e.Site, e.EventID}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		batch = append(batch, e)
		pos = append(pos, i)
		if d := unixDay(e.ReceivedAt); !containsDay(days, d) {
			days = append(days, d)
		}
	}
	if err := s.ensurePartitions(ctx, days); err != nil {
		return 0, err
	}

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("while connecting to insert events: %w", classify(err))
	}
	defer conn.Release()
	fresh, err := s.insertTx(ctx, conn.Conn(), batch)
	if err != nil {
		// The pool drops a connection left inside a transaction, but a
		// rollback keeps it for reuse.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, rerr := conn.Exec(rctx, "ROLLBACK"); rerr != nil {
			_ = conn.Conn().Close(rctx)
		}
		return 0, fmt.Errorf("while inserting %d events: %w", len(batch), classify(err))
	}
	if inserted != nil {
		for _, ord := range fresh {
			inserted[pos[ord-1]] = true
		}
	}
	return len(fresh), nil
}

// insertTx runs the insert transaction and returns the 1-based positions in
// batch of the events that were new.
func (s *Store) insertTx(ctx context.Context, conn *pgx.Conn, batch []event.Event) ([]int64, error) {
	sites := make([]string, len(batch))
	ids := make([]string, len(batch))
	times := make([]time.Time, len(batch))
	for i := range batch {
		sites[i], ids[i], times[i] = batch[i].Site, batch[i].EventID, batch[i].ReceivedAt
	}
	var fresh []int64
	q := &pgx.Batch{}
	q.Queue("BEGIN")
	q.Queue(claimIDs, sites, ids, times).QueryRow(func(row pgx.Row) error { return row.Scan(&fresh) })
	if err := conn.SendBatch(ctx, q).Close(); err != nil {
		return nil, fmt.Errorf("while recording event ids: %w", err)
	}
	if len(fresh) > 0 {
		buf := s.getBuffer()
		buf = appendCopyHeader(buf)
		for _, ord := range fresh {
			buf = appendRow(buf, &batch[ord-1])
		}
		buf = appendCopyTrailer(buf)
		_, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(buf), copyEvents)
		s.putBuffer(buf)
		if err != nil {
			return nil, fmt.Errorf("while copying events: %w", err)
		}
	}
	tag, err := conn.Exec(ctx, "COMMIT")
	if err != nil {
		return nil, fmt.Errorf("while committing: %w", err)
	}
	if tag.String() != "COMMIT" {
		return nil, errors.New("while committing: the transaction was rolled back")
	}
	return fresh, nil
}

func (s *Store) getBuffer() []byte {
	if b, ok := s.bufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 512<<10)
}

func (s *Store) putBuffer(b []byte) {
	if cap(b) <= maxPooledBuffer {
		s.bufs.Put(&b)
	}
}

func containsDay(days []int64, d int64) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}
