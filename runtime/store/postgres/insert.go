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
// trip, and no strings to scan back. Keys are inserted in sorted order so
// that two transactions claiming overlapping keys (a retried batch racing
// its original) lock them in the same order and cannot deadlock.
const claimIDs = `
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS t(site, event_id, received_at, ord)
), claimed AS (
    INSERT INTO event_ids (site, event_id, received_at)
    SELECT site, event_id, received_at FROM input ORDER BY site, event_id
    ON CONFLICT DO NOTHING
    RETURNING site, event_id
)
SELECT coalesce(array_agg(input.ord), '{}') FROM input JOIN claimed USING (site, event_id)`

// Scratch buffers grown past these by an unusually large batch are left to
// the garbage collector rather than kept.
const (
	maxPooledBuffer = 4 << 20
	maxPooledEvents = 2000
)

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

	sc := s.getScratch()
	defer s.putScratch(sc)
	// Normalize, and drop repeats within the call (the first one wins).
	var days []int64
	for i := range events {
		e, err := store.Normalize(events[i])
		if err != nil {
			return 0, fmt.Errorf("while inserting event %d: %w", i, err)
		}
		k := key{e.Site, e.EventID}
		if _, dup := sc.seen[k]; dup {
			continue
		}
		sc.seen[k] = struct{}{}
		sc.batch = append(sc.batch, e)
		sc.pos = append(sc.pos, i)
		if d := unixDay(e.ReceivedAt); !containsDay(days, d) {
			days = append(days, d)
		}
	}
	batch := sc.batch
	if err := s.ensurePartitions(ctx, days); err != nil {
		return 0, err
	}

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("while connecting to insert events: %w", classify(err))
	}
	defer conn.Release()
	fresh, err := s.insertTx(ctx, conn.Conn(), sc)
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
			inserted[sc.pos[ord-1]] = true
		}
	}
	return len(fresh), nil
}

// insertTx runs the insert transaction and returns the 1-based positions in
// batch of the events that were new.
func (s *Store) insertTx(ctx context.Context, conn *pgx.Conn, sc *scratch) ([]int64, error) {
	batch := sc.batch
	for i := range batch {
		sc.sites = append(sc.sites, batch[i].Site)
		sc.ids = append(sc.ids, batch[i].EventID)
		sc.times = append(sc.times, batch[i].ReceivedAt)
	}
	var fresh []int64
	q := &pgx.Batch{}
	q.Queue("BEGIN")
	q.Queue(claimIDs, sc.sites, sc.ids, sc.times).QueryRow(func(row pgx.Row) error { return row.Scan(&fresh) })
	if err := conn.SendBatch(ctx, q).Close(); err != nil {
		return nil, fmt.Errorf("while recording event ids: %w", err)
	}
	if len(fresh) > 0 {
		buf := appendCopyHeader(sc.buf[:0])
		for _, ord := range fresh {
			buf = appendRow(buf, &batch[ord-1])
		}
		buf = appendCopyTrailer(buf)
		sc.buf = buf
		if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(buf), copyEvents); err != nil {
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

// scratch holds the buffers of one insert, reused across inserts: a batch
// of 500 events would otherwise allocate half a megabyte of short-lived
// memory that the garbage collector must scan.
type scratch struct {
	batch []event.Event
	pos   []int // batch index -> index in the caller's events
	seen  map[key]struct{}
	sites []string
	ids   []string
	times []time.Time
	buf   []byte // the COPY stream
}

func (s *Store) getScratch() *scratch {
	if sc, ok := s.scratch.Get().(*scratch); ok {
		return sc
	}
	return &scratch{seen: map[key]struct{}{}}
}

// putScratch keeps sc for reuse unless an unusually large batch grew it.
func (s *Store) putScratch(sc *scratch) {
	if cap(sc.batch) > maxPooledEvents || cap(sc.buf) > maxPooledBuffer {
		return
	}
	clear(sc.batch) // drop references to the callers' strings
	clear(sc.sites)
	clear(sc.ids)
	clear(sc.seen)
	sc.batch, sc.pos, sc.sites, sc.ids, sc.times = sc.batch[:0], sc.pos[:0], sc.sites[:0], sc.ids[:0], sc.times[:0]
	s.scratch.Put(sc)
}

func containsDay(days []int64, d int64) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}
