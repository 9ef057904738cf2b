package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// SnapshotFunc runs read with a QueryFunc whose statements all see one
// snapshot of the database, so that the rollup state, the stale hours and
// the rows a read combines agree with each other.
type SnapshotFunc func(ctx context.Context, read func(query QueryFunc) error) error

// rollupState is a site's progress: every UTC hour before rolledTo is
// rolled up from the events that watermark includes. ok is false for a
// site never rolled up.
type rollupState struct {
	rolledTo  time.Time
	watermark int64
	ok        bool
}

// readPlan says where a read takes each part of its range from: the
// rollups of the whole hours [rolledFrom, rolledTo) but skip, and the raw
// events of the spans in raw.
type readPlan struct {
	rolledFrom, rolledTo time.Time
	skip                 []time.Time
	raw                  [][2]time.Time
}

// usesRollups reports whether a query can read rollups: a store that
// keeps them, and no page filter (pages are not rolled up).
func (a SQLAnalytics) usesRollups(q Query) bool {
	return a.Snapshot != nil && q.Filters.Page == ""
}

// readRolled runs a Totals (starts nil) or Series read of q in one
// snapshot, from rollups where they are complete and raw events elsewhere,
// and hands each result row (totalsSQL's shape) to row.
func (a SQLAnalytics) readRolled(ctx context.Context, q Query, starts []time.Time, row func(scan func(...any) error) error) error {
	d := a.Dialect
	return a.Snapshot(ctx, func(query QueryFunc) error {
		st, err := d.readRollupState(ctx, query, q.Site)
		if err != nil {
			return err
		}
		lo, hi := rollableHours(q, starts, st)
		if !lo.Before(hi) {
			// Nothing to take from rollups: the plain statement.
			sql, args := d.TotalsSQL(q)
			if starts != nil {
				sql, args = d.SeriesSQL(q, starts, q.To)
			}
			return query(ctx, sql, args, row)
		}
		stale, err := d.readStaleHours(ctx, query, q.Site, st.watermark, lo, hi)
		if err != nil {
			return err
		}
		plan := planRead(q, lo, hi, stale)
		bucket := func(p *Params) bucketFunc {
			return func(table, at string, lo, hi time.Time) (string, string, string) {
				if starts == nil {
					return table, "0", ""
				}
				sub, first, end := clipBuckets(starts, q.To, lo, hi)
				from, group, cond := d.Buckets(p, sub, end, table, at)
				return from, "(" + group + " + " + strconv.Itoa(first) + ")", cond
			}
		}
		visitors, err := d.readVisitors(ctx, query, q, bucket, plan)
		if err != nil {
			return err
		}
		sql, args := d.rolledSQL(q, starts, bucket, plan)
		return query(ctx, sql, args, func(scan func(...any) error) error {
			return row(withVisitors(scan, visitors))
		})
	})
}

// withVisitors wraps the Scan of a row of rolledSQL so that the visitors
// column (0 there) gets the group's count from visitors.
func withVisitors(scan func(...any) error, visitors map[int64]int64) func(...any) error {
	return func(dest ...any) error {
		if err := scan(dest...); err != nil {
			return err
		}
		g, ok := dest[0].(*int64)
		n, ok2 := dest[1].(*int64)
		if !ok || !ok2 {
			return fmt.Errorf("scanning a rolled-up row into %T and %T, want *int64 for its group and visitors", dest[0], dest[1])
		}
		*n = visitors[*g]
		return nil
	}
}

// clipBuckets returns the buckets of starts (the last ending at end) that
// overlap [lo, hi), clipped to it, the index of the first in starts, and
// where the last ends: a piece reading [lo, hi) then assigns its rows to
// the buckets it can hold, and SQLite reads each bucket's part of the
// piece's range rather than the whole bucket. A piece with an empty range
// gets one empty bucket, numbered 0 (it selects nothing).
func clipBuckets(starts []time.Time, end, lo, hi time.Time) (sub []time.Time, first int, subEnd time.Time) {
	first = -1
	for i, s := range starts {
		next := end
		if i+1 < len(starts) {
			next = starts[i+1]
		}
		if !next.After(lo) || !s.Before(hi) {
			continue
		}
		if first < 0 {
			first = i
		}
		sub = append(sub, latest(s, lo))
		subEnd = earliest(next, hi)
	}
	if first < 0 {
		return []time.Time{lo}, 0, lo
	}
	return sub, first, subEnd
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// rollableHours returns the whole hours [lo, hi) of q's range that are
// rolled up and that a read by starts' buckets may take from rollups:
// none (lo == hi) when a bucket starts inside an hour, as in zones whose
// offset is not a whole number of hours.
func rollableHours(q Query, starts []time.Time, st rollupState) (lo, hi time.Time) {
	if !st.ok {
		return q.From, q.From
	}
	lo, hi = ceilHour(q.From), floorHour(q.To)
	if st.rolledTo.Before(hi) {
		hi = st.rolledTo
	}
	if !lo.Before(hi) {
		return q.From, q.From
	}
	for _, s := range starts {
		if s.After(lo) && s.Before(hi) && !floorHour(s).Equal(s) {
			return q.From, q.From
		}
	}
	return lo, hi
}

// planRead reads the rollups of [lo, hi) (not empty) but the stale hours
// (ascending), and raw events in the rest of q's range: before lo, each
// run of stale hours, and from hi.
func planRead(q Query, lo, hi time.Time, stale []time.Time) readPlan {
	r := readPlan{rolledFrom: lo, rolledTo: hi, skip: stale}
	if q.From.Before(lo) {
		r.raw = append(r.raw, [2]time.Time{q.From, lo})
	}
	for _, h := range stale {
		if n := len(r.raw); n > 0 && r.raw[n-1][1].Equal(h) {
			r.raw[n-1][1] = h.Add(time.Hour)
			continue
		}
		r.raw = append(r.raw, [2]time.Time{h, h.Add(time.Hour)})
	}
	if hi.Before(q.To) {
		if n := len(r.raw); n > 0 && r.raw[n-1][1].Equal(hi) {
			r.raw[n-1][1] = q.To
		} else {
			r.raw = append(r.raw, [2]time.Time{hi, q.To})
		}
	}
	return r
}

// readRollupState reads a site's rollup state.
func (d *AnalyticsDialect) readRollupState(ctx context.Context, query QueryFunc, site string) (rollupState, error) {
	var st rollupState
	sql, args := d.rollupStateSQL(site)
	err := query(ctx, sql, args, func(scan func(...any) error) error {
		var micros int64
		if err := scan(&micros, &st.watermark); err != nil {
			return err
		}
		st.rolledTo, st.ok = time.UnixMicro(micros).UTC(), true
		return nil
	})
	if err != nil {
		return rollupState{}, fmt.Errorf("while reading the rollup state of site %q: %w", site, err)
	}
	return st, nil
}

// readStaleHours lists, ascending, the hours in [lo, hi) that hold events
// stored after watermark w.
func (d *AnalyticsDialect) readStaleHours(ctx context.Context, query QueryFunc, site string, w int64, lo, hi time.Time) ([]time.Time, error) {
	sql, args := d.staleHoursSQL(site, w, lo, hi)
	hours, err := readHours(ctx, query, sql+" ORDER BY 1", args)
	if err != nil {
		return nil, fmt.Errorf("while finding the stale rollup hours of site %q: %w", site, err)
	}
	return hours, nil
}

// readHours runs a statement returning one column of microseconds, and
// returns them as times.
func readHours(ctx context.Context, query QueryFunc, sql string, args []any) ([]time.Time, error) {
	var hours []time.Time
	err := query(ctx, sql, args, func(scan func(...any) error) error {
		var micros int64
		if err := scan(&micros); err != nil {
			return err
		}
		hours = append(hours, time.UnixMicro(micros).UTC())
		return nil
	})
	return hours, err
}
