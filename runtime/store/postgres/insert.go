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
//
// A server event whose key a browser event holds takes the key over
// (store.Supersedes): its position comes back negated, with the browser
// event's received_at in the second array (in the same order), so that the
// browser row can be found in its day and replaced. (xmax = 0) tells a row
// just inserted from one updated by ON CONFLICT.
const claimIDs = `
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS t(site, event_id, received_at, source, ord)
), claimed AS (
    INSERT INTO event_ids AS k (site, event_id, received_at, source)
    SELECT site, event_id, received_at, source FROM input ORDER BY site, event_id
    ON CONFLICT (site, event_id) DO UPDATE SET source = EXCLUDED.source
        WHERE k.source = 'browser' AND EXCLUDED.source = 'server'
    RETURNING site, event_id, received_at, xmax = 0 AS fresh
)
SELECT coalesce(array_agg(CASE WHEN claimed.fresh THEN input.ord ELSE -input.ord END ORDER BY input.ord), '{}'),
       coalesce(array_agg(claimed.received_at ORDER BY input.ord) FILTER (WHERE NOT claimed.fresh), '{}')
FROM input JOIN claimed USING (site, event_id)`

// takeOver deletes the browser events that server events supersede and
// returns them, to be merged and stored again in the same transaction.
const takeOver = `DELETE FROM events
WHERE (site, received_at, event_id) IN (SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[]))
  AND source = 'browser'
RETURNING ` + store.EventColumns + `, ip_sealed`

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
// COMMIT; a fourth when server events supersede stored browser events
// (store.Supersedes), to take those rows out. Within one call, a server
// event supersedes a browser event with the same key the same way, and the
// browser event's position is not marked.
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
		if j, dup := sc.seen[k]; dup {
			if store.Supersedes(e.Source, sc.batch[j].Source) {
				sc.batch[j], sc.pos[j] = store.Supersede(e, sc.batch[j]), i
			}
			continue
		}
		sc.seen[k] = len(sc.batch)
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
// batch of the events that were stored (new, or superseding).
func (s *Store) insertTx(ctx context.Context, conn *pgx.Conn, sc *scratch) ([]int64, error) {
	batch := sc.batch
	for i := range batch {
		sc.sites = append(sc.sites, batch[i].Site)
		sc.ids = append(sc.ids, batch[i].EventID)
		sc.times = append(sc.times, batch[i].ReceivedAt)
		sc.sources = append(sc.sources, string(batch[i].Source))
	}
	var (
		claimed []int64
		prior   []time.Time
	)
	q := &pgx.Batch{}
	q.Queue("BEGIN")
	q.Queue(claimIDs, sc.sites, sc.ids, sc.times, sc.sources).QueryRow(func(row pgx.Row) error { return row.Scan(&claimed, &prior) })
	if err := conn.SendBatch(ctx, q).Close(); err != nil {
		return nil, fmt.Errorf("while recording event ids: %w", err)
	}
	fresh := claimed[:0]
	var superseding []int64
	for _, ord := range claimed {
		if ord < 0 {
			superseding = append(superseding, -ord)
		}
		fresh = append(fresh, max(ord, -ord))
	}
	if len(superseding) > 0 {
		if err := supersede(ctx, conn, batch, superseding, prior); err != nil {
			return nil, err
		}
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

// supersede takes out the browser rows that the server events at positions
// ords (1-based, in batch) supersede, received at prior[i], and puts the
// merged events in their place in batch, to be copied with the others.
func supersede(ctx context.Context, conn *pgx.Conn, batch []event.Event, ords []int64, prior []time.Time) error {
	sites, times, ids := make([]string, len(ords)), make([]time.Time, len(ords)), make([]string, len(ords))
	for i, ord := range ords {
		e := &batch[ord-1]
		// The key keeps the browser event's received_at, so the merged
		// event lives in that day too, also if its row is gone.
		e.ReceivedAt = prior[i]
		sites[i], times[i], ids[i] = e.Site, prior[i], e.EventID
	}
	rows, err := conn.Query(ctx, takeOver, sites, times, ids)
	if err != nil {
		return fmt.Errorf("while taking over browser events: %w", err)
	}
	defer rows.Close()
	browser := make(map[key]event.Event, len(ords))
	for rows.Next() {
		var sc eventScan
		if err := rows.Scan(append(sc.dest(), &sc.e.RawIPSealed)...); err != nil {
			return fmt.Errorf("while taking over browser events: %w", err)
		}
		b, err := sc.event()
		if err != nil {
			return fmt.Errorf("while taking over browser events: %w", err)
		}
		browser[key{b.Site, b.EventID}] = b
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("while taking over browser events: %w", err)
	}
	for _, ord := range ords {
		e := &batch[ord-1]
		if b, ok := browser[key{e.Site, e.EventID}]; ok {
			*e = store.Supersede(*e, b)
		}
	}
	return nil
}

// scratch holds the buffers of one insert, reused across inserts: a batch
// of 500 events would otherwise allocate half a megabyte of short-lived
// memory that the garbage collector must scan.
type scratch struct {
	batch   []event.Event
	pos     []int       // batch index -> index in the caller's events
	seen    map[key]int // key -> index in batch
	sites   []string
	ids     []string
	times   []time.Time
	sources []string
	buf     []byte // the COPY stream
}

func (s *Store) getScratch() *scratch {
	if sc, ok := s.scratch.Get().(*scratch); ok {
		return sc
	}
	return &scratch{seen: map[key]int{}}
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
	sc.batch, sc.pos, sc.sites, sc.ids, sc.times, sc.sources = sc.batch[:0], sc.pos[:0], sc.sites[:0], sc.ids[:0], sc.times[:0], sc.sources[:0]
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
