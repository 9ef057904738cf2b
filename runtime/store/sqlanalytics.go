package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// QueryFunc runs a statement and calls row for each result row, with the
// row's Scan. It is how SQLAnalytics reaches a store's database.
type QueryFunc func(ctx context.Context, sql string, args []any, row func(scan func(dest ...any) error) error) error

// SQLAnalytics is Analytics for the SQL stores: the statements of
// AnalyticsDialect, run through Query. Every number is aggregated in the
// database; only result rows come back.
//
// Where the contract leaves room: a page is URLPath of the event's URL
// (no scheme, host, query or fragment; "/" for an empty path); a source
// is utm_source, else URLHost of the referrer, else "(direct)"; an event
// without a session id is a session of its own; sessions, bounces and
// durations of a series bucket or a filtered report count only the
// events in it; goals run one statement each.
//
// With Snapshot set, Totals and Series read rollups where they are
// complete (see rollups.go) and raw events elsewhere, with the same
// results.
type SQLAnalytics struct {
	Dialect  *AnalyticsDialect
	Query    QueryFunc
	Snapshot SnapshotFunc
}

// MaxBuckets bounds a series, so a year of hours fits but a typo in a
// range does not build millions of buckets.
const MaxBuckets = 24 * 400

// ValidateQuery checks a query's site and range.
func ValidateQuery(q Query) error {
	switch {
	case q.Site == "":
		return errors.New("query without a site")
	case q.From.IsZero() || q.To.IsZero():
		return fmt.Errorf("query of site %q without a range (from %v, to %v)", q.Site, q.From, q.To)
	case q.To.Before(q.From):
		return fmt.Errorf("query of site %q ends (%v) before it starts (%v)", q.Site, q.To, q.From)
	}
	return nil
}

// Totals returns the numbers over the query's range; see Analytics.
func (a SQLAnalytics) Totals(ctx context.Context, q Query) (Totals, error) {
	if err := ValidateQuery(q); err != nil {
		return Totals{}, err
	}
	var t Totals
	row := func(scan func(...any) error) error {
		var g int64
		var err error
		t, err = scanTotals(scan, &g)
		return err
	}
	var err error
	if a.usesRollups(q) {
		err = a.readRolled(ctx, q, nil, row)
	} else {
		sql, args := a.Dialect.TotalsSQL(q)
		err = a.Query(ctx, sql, args, row)
	}
	if err != nil {
		return Totals{}, fmt.Errorf("while reading totals of site %q: %w", q.Site, err)
	}
	return t, nil
}

// scanTotals reads a row of AnalyticsDialect.totalsSQL, its group into g.
func scanTotals(scan func(...any) error, g any) (Totals, error) {
	var t Totals
	var bounces int64
	var secs float64
	if err := scan(g, &t.Visitors, &t.Pageviews, &t.Conversions, &t.Revenue, &t.Sessions, &bounces, &secs); err != nil {
		return Totals{}, err
	}
	if t.Sessions > 0 {
		t.BounceRate = float64(bounces) / float64(t.Sessions)
		t.VisitSecs = secs / float64(t.Sessions)
	}
	return t, nil
}

// Series returns the numbers per bucket; see Analytics.
func (a SQLAnalytics) Series(ctx context.Context, q Query, step time.Duration) ([]Point, error) {
	if err := ValidateQuery(q); err != nil {
		return nil, err
	}
	starts, err := BucketStarts(q, step)
	if err != nil {
		return nil, err
	}
	points := make([]Point, len(starts))
	for i, s := range starts {
		points[i].Start = s
	}
	if len(starts) == 0 {
		return points, nil
	}
	row := func(scan func(...any) error) error {
		var i int64
		t, err := scanTotals(scan, &i)
		if err != nil {
			return err
		}
		if i < 0 || i >= int64(len(points)) {
			return fmt.Errorf("bucket %d of %d", i, len(points))
		}
		points[i].Totals = t
		return nil
	}
	if a.usesRollups(q) {
		err = a.readRolled(ctx, q, starts, row)
	} else {
		sql, args := a.Dialect.SeriesSQL(q, starts, q.To)
		err = a.Query(ctx, sql, args, row)
	}
	if err != nil {
		return nil, fmt.Errorf("while reading the series of site %q: %w", q.Site, err)
	}
	return points, nil
}

// BucketStarts returns the starts of the buckets of step (an hour or a
// day) that overlap [q.From, q.To), in q.Location (UTC when nil). Days
// start at local midnight, so a day of a DST change lasts 23 or 25 hours;
// hours start at the local full hour (not the UTC one: zones like +05:30
// differ) and each lasts an hour, so the repeated hour of a change back
// has two buckets.
func BucketStarts(q Query, step time.Duration) ([]time.Time, error) {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	from := q.From.In(loc)
	var start time.Time
	var next func(time.Time) time.Time
	switch step {
	case time.Hour:
		start = from.Add(-(time.Duration(from.Minute())*time.Minute + time.Duration(from.Second())*time.Second + time.Duration(from.Nanosecond())))
		next = func(t time.Time) time.Time { return t.Add(time.Hour) }
	case 24 * time.Hour:
		start = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc) }
	default:
		return nil, fmt.Errorf("series step %v: want an hour or a day (24h)", step)
	}
	var starts []time.Time
	for t := start; t.Before(q.To); t = next(t) {
		if len(starts) == MaxBuckets {
			return nil, fmt.Errorf("series of site %q from %v to %v by %v has more than %d buckets", q.Site, q.From, q.To, step, MaxBuckets)
		}
		starts = append(starts, t)
	}
	return starts, nil
}

// Breakdown returns the top values of a dimension; see Analytics. A
// non-positive limit returns none. Ties on visitors and pageviews are
// ordered by value in byte order, "" (shown as "(none)") first.
func (a SQLAnalytics) Breakdown(ctx context.Context, q Query, dim string, limit int) ([]Row, error) {
	if err := ValidateQuery(q); err != nil {
		return nil, err
	}
	sql, args, err := a.Dialect.BreakdownSQL(q, dim, limit)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	var rows []Row
	err = a.Query(ctx, sql, args, func(scan func(...any) error) error {
		var r Row
		if err := scan(&r.Value, &r.Visitors, &r.Pageviews, &r.Conversions, &r.Revenue); err != nil {
			return err
		}
		if r.Value == "" {
			r.Value = "(none)"
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while breaking down site %q by %s: %w", q.Site, dim, err)
	}
	return rows, nil
}

// Goals returns each goal's numbers, in the order given; see Analytics.
func (a SQLAnalytics) Goals(ctx context.Context, q Query, goals []Goal) ([]GoalRow, error) {
	if err := ValidateQuery(q); err != nil {
		return nil, err
	}
	for _, g := range goals {
		if err := ValidateGoal(g); err != nil {
			return nil, err
		}
	}
	if len(goals) == 0 {
		return nil, nil
	}
	var visitors int64
	sql, args := a.Dialect.VisitorsSQL(q)
	if err := a.Query(ctx, sql, args, func(scan func(...any) error) error { return scan(&visitors) }); err != nil {
		return nil, fmt.Errorf("while counting visitors of site %q: %w", q.Site, err)
	}
	out := make([]GoalRow, len(goals))
	for i, g := range goals {
		sql, args, err := a.Dialect.GoalSQL(q, g)
		if err != nil {
			return nil, err
		}
		r := GoalRow{Name: g.Name}
		err = a.Query(ctx, sql, args, func(scan func(...any) error) error {
			return scan(&r.Visitors, &r.Completions, &r.Revenue)
		})
		if err != nil {
			return nil, fmt.Errorf("while reading goal %q of site %q: %w", g.Name, q.Site, err)
		}
		if visitors > 0 {
			r.ConversionRate = float64(r.Visitors) / float64(visitors)
		}
		out[i] = r
	}
	return out, nil
}
