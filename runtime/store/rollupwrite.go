package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// RollupTx is one transaction of a rollup refresh. Its statements see one
// snapshot (PostgreSQL: REPEATABLE READ; SQLite: its one writer), and no
// other refresh of the site runs beside it.
type RollupTx struct {
	Exec  func(ctx context.Context, sql string, args []any) error
	Query QueryFunc
}

// RollUpStep is the most new hours one transaction of RollUpOnce rolls
// up, so that a site's first run over a long history neither holds one
// huge transaction nor, on SQLite, blocks the writer for long.
const RollUpStep = 24 * time.Hour

// RollUpOnce runs one transaction of Roller.RollUp: it re-rolls the rolled
// hours of site that hold events stored after the watermark, rolls up at
// most RollUpStep of new hours ending at or before until, and advances the
// watermark. It reports whether the site is now rolled up to until; the
// store repeats it, each time in a new transaction, until it is.
func (d *AnalyticsDialect) RollUpOnce(ctx context.Context, tx RollupTx, site string, until time.Time) (done bool, err error) {
	// The watermark first: in PostgreSQL the first statement takes the
	// transaction's snapshot, which the watermark describes.
	var w int64
	if err := tx.Query(ctx, d.Watermark, nil, func(scan func(...any) error) error { return scan(&w) }); err != nil {
		return false, fmt.Errorf("while reading the rollup watermark: %w", err)
	}
	st, err := d.readRollupState(ctx, tx.Query, site)
	if err != nil {
		return false, err
	}
	from := st.rolledTo
	if st.ok {
		if err := d.reRollStale(ctx, tx, site, st, w); err != nil {
			return false, err
		}
	} else {
		first, ok, err := d.nextEvent(ctx, tx.Query, site, time.UnixMicro(0))
		if err != nil || !ok {
			return !ok, err
		}
		from = floorHour(first)
	}
	end := floorHour(until)
	to, err := d.nextStep(ctx, tx.Query, site, from, end)
	if err != nil {
		return false, err
	}
	if from.Before(to) {
		if err := d.rollUp(ctx, tx, site, from, to, w); err != nil {
			return false, err
		}
	}
	sql, args := d.saveRollupStateSQL(site, to, w)
	if err := tx.Exec(ctx, sql, args); err != nil {
		return false, fmt.Errorf("while saving the rollup state of site %q: %w", site, err)
	}
	return !to.Before(end), nil
}

// reRollStale rolls up again, up to watermark w, every rolled hour that
// holds an event stored after the state's watermark.
func (d *AnalyticsDialect) reRollStale(ctx context.Context, tx RollupTx, site string, st rollupState, w int64) error {
	stale, err := d.readStaleHours(ctx, tx.Query, site, st.watermark, time.UnixMicro(0), st.rolledTo)
	if err != nil {
		return err
	}
	for _, h := range stale {
		if err := d.rollUp(ctx, tx, site, h, h.Add(time.Hour), w); err != nil {
			return err
		}
	}
	return nil
}

// RefreshOnce runs Rollups.RefreshRollups in one transaction: the rolled
// hours overlapping [from, to) are rolled up again from the events that
// remain, up to the watermark they were rolled up to.
func (d *AnalyticsDialect) RefreshOnce(ctx context.Context, tx RollupTx, site string, from, to time.Time) error {
	switch {
	case site == "":
		return errors.New("refreshing rollups without a site")
	case from.IsZero() || to.IsZero() || to.Before(from):
		return fmt.Errorf("refreshing the rollups of site %q from %v to %v: want a range", site, from, to)
	}
	st, err := d.readRollupState(ctx, tx.Query, site)
	if err != nil || !st.ok {
		return err
	}
	lo, hi := floorHour(from), earliest(ceilHour(to), st.rolledTo)
	if !lo.Before(hi) {
		return nil
	}
	return d.rollUp(ctx, tx, site, lo, hi, st.watermark)
}

// rollUp replaces a site's rollup rows of [lo, hi) by those of the events
// watermark w includes, re-sums the spans of the sessions whose rows
// changed, and rebuilds the hourly tier of every hour whose rows or spans
// changed: those of [lo, hi), those of rows of other hours that the new
// rows made shared, and the first hours of the spans. The touchpoint blobs
// of [lo, hi) and of the hours with rows made shared are rebuilt too.
// Visitors whose rows are gone lose their numbers.
func (d *AnalyticsDialect) rollUp(ctx context.Context, tx RollupTx, site string, lo, hi time.Time, w int64) error {
	cleared, err := d.clearRollups(ctx, tx, site, lo, hi)
	if err != nil {
		return err
	}
	sql, args := d.rollUpSQL(site, lo, hi, w)
	if err := tx.Exec(ctx, sql, args); err != nil {
		return fmt.Errorf("while rolling up site %q from %v: %w", site, lo, err)
	}
	marked, err := d.markShared(ctx, tx, site, lo, hi)
	if err != nil {
		return err
	}
	spanned, err := d.refreshSpans(ctx, tx, site, lo, hi)
	if err != nil {
		return err
	}
	if err := d.numberVisitors(ctx, tx, site, lo, hi); err != nil {
		return err
	}
	if err := d.rebuildTier(ctx, tx, site, lo, hi); err != nil {
		return err
	}
	if err := d.rebuildTouches(ctx, tx, site, lo, hi, w); err != nil {
		return err
	}
	for _, run := range hourRuns(append(marked, spanned...), lo, hi) {
		if err := d.rebuildTier(ctx, tx, site, run[0], run[1]); err != nil {
			return err
		}
	}
	for _, run := range hourRuns(marked, lo, hi) {
		if err := d.rebuildTouches(ctx, tx, site, run[0], run[1], w); err != nil {
			return err
		}
	}
	return d.forgetVisitors(ctx, tx, site, cleared)
}

// clearRollups deletes a site's rollup_sessions rows of [lo, hi) and
// returns the distinct visitor ids they held.
func (d *AnalyticsDialect) clearRollups(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	sql, args := d.clearRollupsSQL(site, lo, hi)
	err := tx.Query(ctx, sql, args, func(scan func(...any) error) error {
		var id *string
		if err := scan(&id); err != nil {
			return err
		}
		if id != nil && !seen[*id] {
			seen[*id] = true
			ids = append(ids, *id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while clearing the rollups of site %q from %v: %w", site, lo, err)
	}
	return ids, nil
}

// markShared runs markSharedSQL and returns the hours of the rows it
// marked.
func (d *AnalyticsDialect) markShared(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) ([]time.Time, error) {
	sql, args := d.markSharedSQL(site, lo, hi)
	hours, err := readHours(ctx, tx.Query, sql, args)
	if err != nil {
		return nil, fmt.Errorf("while marking the sessions of site %q from %v that span rows: %w", site, lo, err)
	}
	return hours, nil
}

// nextStep returns where one step rolling up from the hour from towards
// end stops: RollUpStep after the hour of the next event, so that hours
// without events cost nothing, or end, whichever comes first.
func (d *AnalyticsDialect) nextStep(ctx context.Context, query QueryFunc, site string, from, end time.Time) (time.Time, error) {
	if !from.Before(end) {
		return from, nil
	}
	next, ok, err := d.nextEvent(ctx, query, site, from)
	if err != nil || !ok {
		return end, err
	}
	return earliest(end, floorHour(next).Add(RollUpStep)), nil
}

// nextEvent returns the received_at of a site's first event at or after
// from.
func (d *AnalyticsDialect) nextEvent(ctx context.Context, query QueryFunc, site string, from time.Time) (time.Time, bool, error) {
	var micros *int64
	sql, args := d.nextEventSQL(site, from)
	if err := query(ctx, sql, args, func(scan func(...any) error) error { return scan(&micros) }); err != nil {
		return time.Time{}, false, fmt.Errorf("while finding the first event of site %q: %w", site, err)
	}
	if micros == nil {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(*micros).UTC(), true, nil
}

// farFuture is after every hour a store holds.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// RefreshHoursOnce re-rolls, in tx, the rolled hours of site that held
// events received at the given times: the events tx has just deleted.
// Retention and erasure call it in the transaction that deletes, so the
// rollups never count a deleted event, nor keep its ids, past the commit.
func (d *AnalyticsDialect) RefreshHoursOnce(ctx context.Context, tx RollupTx, site string, received []time.Time) error {
	return d.refreshRolledHours(ctx, tx, site, received, d.rollUp)
}

// RefreshTouchesOnce rebuilds, in tx, the touchpoint blobs of the rolled
// hours of site that hold events received at the given times: events tx
// has just changed in what the blobs keep of them but not in what the
// other rollups count (retention clearing their user ids). Blobs name
// users, and no user id may outlive its events' own.
func (d *AnalyticsDialect) RefreshTouchesOnce(ctx context.Context, tx RollupTx, site string, received []time.Time) error {
	return d.refreshRolledHours(ctx, tx, site, received, d.rebuildTouches)
}

// refreshRolledHours runs refresh, with the site's watermark, over the
// runs of rolled hours that hold the received times.
func (d *AnalyticsDialect) refreshRolledHours(ctx context.Context, tx RollupTx, site string, received []time.Time,
	refresh func(ctx context.Context, tx RollupTx, site string, lo, hi time.Time, w int64) error) error {
	st, err := d.readRollupState(ctx, tx.Query, site)
	if err != nil || !st.ok {
		return err
	}
	for _, run := range hourRuns(received, st.rolledTo, farFuture) {
		if err := refresh(ctx, tx, site, run[0], run[1], st.watermark); err != nil {
			return err
		}
	}
	return nil
}

// hourRuns returns the runs of consecutive whole UTC hours that hold the
// times, leaving out those in [skipFrom, skipTo), ascending.
func hourRuns(times []time.Time, skipFrom, skipTo time.Time) [][2]time.Time {
	hours := make([]time.Time, 0, len(times))
	for _, t := range times {
		if h := floorHour(t); h.Before(skipFrom) || !h.Before(skipTo) {
			hours = append(hours, h)
		}
	}
	slices.SortFunc(hours, func(a, b time.Time) int { return a.Compare(b) })
	var runs [][2]time.Time
	for _, h := range hours {
		if n := len(runs); n > 0 && !runs[n-1][1].Before(h) {
			runs[n-1][1] = h.Add(time.Hour)
			continue
		}
		runs = append(runs, [2]time.Time{h, h.Add(time.Hour)})
	}
	return runs
}
