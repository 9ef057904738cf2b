package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trackstack/trackstack/runtime/store"
)

var (
	_ store.Retention  = (*Store)(nil)
	_ store.ErasureOps = retentionOps{}
)

// ApplyRetention runs one site's retention plan; see store.Retention.
// Day partitions that hold only the site's expired events are dropped
// whole; the rest is deleted in batches.
func (s *Store) ApplyRetention(ctx context.Context, plan store.RetentionPlan) (store.RetentionCounts, error) {
	return store.ApplyRetention(ctx, retentionOps{s}, plan)
}

// retentionOps are the PostgreSQL statements of retention and erasure.
type retentionOps struct{ s *Store }

// refsSQL lists events after a (received_at, seq) position. The row
// comparison starts with site, so it is a range of the (site,
// received_at, seq) index.
const refsSQL = `SELECT received_at, seq, event_id, coalesce(ip, ''), ip_sealed IS NOT NULL FROM events
WHERE site = $1 AND received_at >= $2 AND received_at < $3 AND (site, received_at, seq) > ($1, $4, $5)%s
ORDER BY received_at, seq LIMIT $6`

// Refs lists events by position; see store.RetentionOps.
func (o retentionOps) Refs(ctx context.Context, site string, from, to time.Time, after store.EventRef, which, limit int) ([]store.EventRef, error) {
	if from.IsZero() {
		from = time.Unix(0, 0)
	}
	if after.ReceivedAt.Before(from) {
		after = store.EventRef{ReceivedAt: from, Seq: -1}
	}
	rows, err := o.s.pool.Query(ctx, fmt.Sprintf(refsSQL, store.RefsFilter(which)), site, from, to, after.ReceivedAt, after.Seq, limit)
	if err != nil {
		return nil, classify(err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.EventRef, error) {
		var ref store.EventRef
		err := r.Scan(&ref.ReceivedAt, &ref.Seq, &ref.EventID, &ref.IP, &ref.Sealed)
		return ref, err
	})
}

// refArrays splits refs into the arrays the statements take, and the
// received_at bounds that let PostgreSQL skip the other partitions.
func refArrays(refs []store.EventRef) (seqs []int64, ids []string, lo, hi time.Time) {
	lo, hi = refs[0].ReceivedAt, refs[0].ReceivedAt
	for _, r := range refs {
		seqs, ids = append(seqs, r.Seq), append(ids, r.EventID)
		if r.ReceivedAt.Before(lo) {
			lo = r.ReceivedAt
		}
		if r.ReceivedAt.After(hi) {
			hi = r.ReceivedAt
		}
	}
	return seqs, ids, lo, hi
}

// deleteEventsSQL deletes events by seq, with their dedup keys and
// delivery records, and adds the count to an erasure request ($5; 0 for
// none). seq is unique across partitions.
const deleteEventsSQL = `WITH gone AS (
    DELETE FROM events WHERE site = $1 AND received_at BETWEEN $2 AND $3 AND seq = ANY($4) RETURNING event_id
), keys AS (
    DELETE FROM event_ids WHERE site = $1 AND event_id IN (SELECT event_id FROM gone) RETURNING 1
), dels AS (
    DELETE FROM deliveries WHERE site = $1 AND event_id IN (SELECT event_id FROM gone) RETURNING 1
), req AS (
    UPDATE erasures SET rows_removed = coalesce(rows_removed, 0) + (SELECT count(*) FROM gone)
    WHERE site = $1 AND id = $5 RETURNING 1
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM keys), (SELECT count(*) FROM dels), (SELECT count(*) FROM req)`

// DeleteEvents deletes events; see store.RetentionOps.
func (o retentionOps) DeleteEvents(ctx context.Context, site string, refs []store.EventRef, erasureID int64) (store.ErasureResult, error) {
	var r store.ErasureResult
	if len(refs) == 0 {
		return r, nil
	}
	seqs, _, lo, hi := refArrays(refs)
	var req int64
	// The rollups of the events' hours are refreshed in the same
	// transaction (store.Rollups), under the site's rollup lock.
	err := pgx.BeginFunc(ctx, o.s.pool, func(tx pgx.Tx) error {
		if err := lockRollupsTx(ctx, tx, site); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, deleteEventsSQL, site, lo, hi, seqs, erasureID).
			Scan(&r.EventsDeleted, &r.KeysDeleted, &r.DeliveriesDeleted, &req)
		if err != nil {
			return err
		}
		return dialect.RefreshHoursOnce(ctx, rollupTxOf(tx), site, store.ReceivedTimes(refs))
	})
	if err != nil {
		return store.ErasureResult{}, classify(err)
	}
	return r, nil
}

// RefreshRollups refreshes rollups; see store.Rollups.
func (o retentionOps) RefreshRollups(ctx context.Context, site string, from, to time.Time) error {
	return o.s.RefreshRollups(ctx, site, from, to)
}

// SetIPs stores anonymized IPs; see store.RetentionOps.
func (o retentionOps) SetIPs(ctx context.Context, site string, refs []store.EventRef) error {
	if len(refs) == 0 {
		return nil
	}
	seqs, _, lo, hi := refArrays(refs)
	ips := make([]string, len(refs))
	for i, r := range refs {
		ips[i] = r.IP
	}
	_, err := o.s.pool.Exec(ctx, `UPDATE events e SET ip = nullif(v.ip, ''), ip_sealed = NULL
FROM unnest($4::bigint[], $5::text[]) AS v(seq, ip)
WHERE e.site = $1 AND e.received_at BETWEEN $2 AND $3 AND e.seq = v.seq`, site, lo, hi, seqs, ips)
	return classify(err)
}

// ClearPII clears matching data; see store.RetentionOps.
func (o retentionOps) ClearPII(ctx context.Context, site string, refs []store.EventRef) error {
	if len(refs) == 0 {
		return nil
	}
	seqs, _, lo, hi := refArrays(refs)
	// The touchpoint rollups keep user ids: those of the events' hours are
	// rebuilt in the same transaction, under the site's rollup lock.
	err := pgx.BeginFunc(ctx, o.s.pool, func(tx pgx.Tx) error {
		if err := lockRollupsTx(ctx, tx, site); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE events SET `+store.ClearPIIColumns+`
WHERE site = $1 AND received_at BETWEEN $2 AND $3 AND seq = ANY($4)`, site, lo, hi, seqs)
		if err != nil {
			return err
		}
		return dialect.RefreshTouchesOnce(ctx, rollupTxOf(tx), site, store.ReceivedTimes(refs))
	})
	return classify(err)
}

// CountExpired counts what expiring would delete; see store.RetentionOps.
func (o retentionOps) CountExpired(ctx context.Context, site string, before time.Time) (store.RetentionCounts, error) {
	var c store.RetentionCounts
	err := o.s.pool.QueryRow(ctx, `SELECT
    (SELECT count(*) FROM events WHERE site = $1 AND received_at < $2),
    (SELECT count(*) FROM event_ids WHERE site = $1 AND received_at < $2),
    (SELECT count(*) FROM deliveries WHERE site = $1 AND received_at < $2)`, site, before).
		Scan(&c.EventsDeleted, &c.KeysDeleted, &c.DeliveriesDeleted)
	if err != nil {
		return c, classify(err)
	}
	parts, err := o.droppable(ctx, site, before)
	c.PartitionsDropped = int64(len(parts))
	return c, err
}

// partitionName is a day partition's name (ensure_event_partition).
var partitionName = regexp.MustCompile(`^events_p(\d{8})$`)

// droppable lists the day partitions that end at or before `before` and
// hold no other site's events, oldest first. Two probes of the (site,
// received_at, seq) index tell whether any other site is present.
func (o retentionOps) droppable(ctx context.Context, site string, before time.Time) ([]string, error) {
	rows, err := o.s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events'::regclass`)
	if err != nil {
		return nil, classify(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, classify(err)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		m := partitionName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		day, err := time.Parse("20060102", m[1])
		if err != nil || day.AddDate(0, 0, 1).After(before) {
			continue
		}
		var others bool
		err = o.s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %[1]s WHERE site < $1) OR EXISTS (SELECT 1 FROM %[1]s WHERE site > $1)`,
			pgx.Identifier{name}.Sanitize()), site).Scan(&others)
		if err != nil {
			return nil, classify(err)
		}
		if !others {
			out = append(out, name)
		}
	}
	return out, nil
}

// DropPartitions drops the site's expired day partitions; see
// store.RetentionOps.
func (o retentionOps) DropPartitions(ctx context.Context, site string, before time.Time, batch int, progress func(store.RetentionCounts)) (store.RetentionCounts, error) {
	var total store.RetentionCounts
	parts, err := o.droppable(ctx, site, before)
	if err != nil {
		return total, err
	}
	for _, part := range parts {
		if err := o.dropPartition(ctx, site, part, batch, &total, progress); err != nil {
			return total, fmt.Errorf("while dropping partition %s: %w", part, err)
		}
	}
	return total, nil
}

// dropPartition deletes the dedup keys and delivery records of a
// partition's events, in batches, then detaches and drops it.
func (o retentionOps) dropPartition(ctx context.Context, site, part string, batch int, total *store.RetentionCounts, progress func(store.RetentionCounts)) error {
	table := pgx.Identifier{part}.Sanitize()
	after := store.EventRef{ReceivedAt: time.Unix(0, 0), Seq: -1}
	for {
		rows, err := o.s.pool.Query(ctx, `SELECT received_at, seq, event_id FROM `+table+`
WHERE site = $1 AND (site, received_at, seq) > ($1, $2, $3) ORDER BY received_at, seq LIMIT $4`, site, after.ReceivedAt, after.Seq, batch)
		if err != nil {
			return classify(err)
		}
		refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.EventRef, error) {
			var ref store.EventRef
			return ref, r.Scan(&ref.ReceivedAt, &ref.Seq, &ref.EventID)
		})
		if err != nil {
			return classify(err)
		}
		if len(refs) == 0 {
			break
		}
		after = refs[len(refs)-1]
		_, ids, _, _ := refArrays(refs)
		var keys, dels int64
		err = o.s.pool.QueryRow(ctx, `WITH keys AS (
    DELETE FROM event_ids WHERE site = $1 AND event_id = ANY($2) RETURNING 1
), dels AS (
    DELETE FROM deliveries WHERE site = $1 AND event_id = ANY($2) RETURNING 1
) SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM dels)`, site, ids).Scan(&keys, &dels)
		if err != nil {
			return classify(err)
		}
		total.KeysDeleted += keys
		total.DeliveriesDeleted += dels
		progress(*total)
	}
	// The events are counted when they go, so that a run killed before
	// the drop and run again counts them once.
	n, err := o.detachAndDrop(ctx, table)
	if err != nil {
		return err
	}
	total.EventsDeleted += n
	total.PartitionsDropped++
	return nil
}

// Detaching a partition locks the parent table against inserts. A short
// lock timeout keeps ingest from queueing behind a detach that waits on a
// long query; the detach is then tried again.
const (
	detachLockTimeout = "500ms"
	detachAttempts    = 40
)

// detachAndDrop detaches and drops a partition and returns how many
// events it held, retrying while its lock is not granted within
// detachLockTimeout.
func (o retentionOps) detachAndDrop(ctx context.Context, table string) (int64, error) {
	var err error
	var n int64
	for attempt := 1; attempt <= detachAttempts; attempt++ {
		err = pgx.BeginFunc(ctx, o.s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+detachLockTimeout+`'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE events DETACH PARTITION `+table); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DROP TABLE `+table)
			return err
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" { // lock_not_available
			return n, classify(err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("could not lock the events table to detach a partition after %d attempts: %w", detachAttempts, err)
}

// Mark returns a step's mark; see store.RetentionOps.
func (o retentionOps) Mark(ctx context.Context, site, step string) (time.Time, bool, error) {
	var t time.Time
	err := o.s.pool.QueryRow(ctx, `SELECT done_before FROM retention_marks WHERE site = $1 AND step = $2`, site, step).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return t.UTC(), err == nil, classify(err)
}

// SetMark records a step's mark; see store.RetentionOps.
func (o retentionOps) SetMark(ctx context.Context, site, step string, t time.Time) error {
	_, err := o.s.pool.Exec(ctx, `INSERT INTO retention_marks (site, step, done_before) VALUES ($1, $2, $3)
ON CONFLICT (site, step) DO UPDATE SET done_before = excluded.done_before`, site, step, t)
	return classify(err)
}

// PersonRefs finds a person's events; see store.RetentionOps.
func (o retentionOps) PersonRefs(ctx context.Context, site string, key store.JourneyKey) (refs []store.EventRef, visitors, users []string, err error) {
	sql, args, err := dialect.PersonSQL(site, key)
	if err != nil {
		return nil, nil, nil, err
	}
	err = o.s.queryRows(ctx, sql, args, func(scan func(...any) error) error {
		var at *time.Time
		var seq *int64
		var id, kind, who *string
		if err := scan(&at, &seq, &id, &kind, &who); err != nil {
			return err
		}
		switch {
		case at != nil:
			refs = append(refs, store.EventRef{ReceivedAt: *at, Seq: *seq, EventID: *id})
		case *kind == "v":
			visitors = append(visitors, *who)
		default:
			users = append(users, *who)
		}
		return nil
	})
	return refs, visitors, users, err
}

// RecordRetentionRun stores a run's result; see store.Retention.
func (s *Store) RecordRetentionRun(ctx context.Context, run store.RetentionRun) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO retention_runs (site, policy, started_at, finished_at, error, summary)
VALUES ($1, $2, $3, $4, $5, $6)`, run.Site, run.Policy, run.StartedAt, run.FinishedAt, run.Error, string(run.Summary))
	if err != nil {
		return fmt.Errorf("while recording a retention run of site %q: %w", run.Site, classify(err))
	}
	return nil
}

// LastRetentionRun returns the newest run; see store.Retention.
func (s *Store) LastRetentionRun(ctx context.Context, site string) (store.RetentionRun, bool, error) {
	run := store.RetentionRun{Site: site}
	var summary string
	err := s.pool.QueryRow(ctx, `SELECT policy, started_at, finished_at, error, summary::text FROM retention_runs
WHERE site = $1 ORDER BY seq DESC LIMIT 1`, site).Scan(&run.Policy, &run.StartedAt, &run.FinishedAt, &run.Error, &summary)
	if errors.Is(err, pgx.ErrNoRows) {
		return run, false, nil
	}
	if err != nil {
		return run, false, fmt.Errorf("while reading the last retention run of site %q: %w", site, classify(err))
	}
	run.StartedAt, run.FinishedAt, run.Summary = run.StartedAt.UTC(), run.FinishedAt.UTC(), []byte(summary)
	return run, true, nil
}
