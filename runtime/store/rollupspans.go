package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Spans (rollup_spans) are the sessions whose rollup_sessions rows are
// shared, each summed over all its rows, so that a read need not merge
// them row by row: a span not split counts in the rollup_hours row of its
// first hour, and a read takes back only the spans a boundary of its
// range or buckets cuts (see cutSpansSQL).

// maxWholeSpan is the longest a span may last, from its first hour to its
// last, and still be counted whole in its first hour. Reads look this far
// back for spans crossing a boundary; longer sessions are split.
const maxWholeSpan = 6 * time.Hour

// idsPerStatement bounds the ids a statement lists, well within both
// databases' limits on parameters.
const idsPerStatement = 500

// inList is a parenthesized list of the values as parameters.
func inList[T any](p *Params, values []T) string {
	marks := make([]string, len(values))
	for i, v := range values {
		marks[i] = p.Add(v)
	}
	return "(" + strings.Join(marks, ", ") + ")"
}

// wholeSpansSQL selects the sessions of a site's spans not split (site is
// its parameter) that hold an hour before hi and one at or after lo: with
// lo == hi, the spans a boundary at lo cuts. Such a span lasts at most
// maxWholeSpan, so the first-hour index is read from that far back.
func (d *AnalyticsDialect) wholeSpansSQL(p *Params, site string, lo, hi time.Time) string {
	return `SELECT s.session_id FROM rollup_spans s WHERE s.site = ` + site + ` AND s.split = 0
  AND s.first_hour >= ` + p.Add(d.Time(lo.Add(-maxWholeSpan))) + ` AND s.first_hour < ` + p.Add(d.Time(hi)) +
		` AND s.last_hour >= ` + p.Add(d.Time(lo))
}

// splitSpansSQL selects the sessions of a site's split spans (site is its
// parameter) that overlap [lo, hi).
func (d *AnalyticsDialect) splitSpansSQL(p *Params, site string, lo, hi time.Time) string {
	return `SELECT s.session_id FROM rollup_spans s WHERE s.site = ` + site + ` AND s.split <> 0
  AND s.first_hour < ` + p.Add(d.Time(hi)) + ` AND s.last_hour >= ` + p.Add(d.Time(lo))
}

// chunks calls fn with the ids idsPerStatement at a time.
func chunks(ids []string, fn func(chunk []string) error) error {
	for start := 0; start < len(ids); start += idsPerStatement {
		if err := fn(ids[start:min(len(ids), start+idsPerStatement)]); err != nil {
			return err
		}
	}
	return nil
}

// refreshSpans rebuilds, from their rows now, the spans of a site's
// sessions that have shared rows in [lo, hi) or had a span overlapping
// it (its rows there may be gone). It returns the first hours of the
// spans it removed and wrote, whose hourly rows must be rebuilt.
func (d *AnalyticsDialect) refreshSpans(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) ([]time.Time, error) {
	sessions, err := d.spannedSessions(ctx, tx, site, lo, hi)
	if err != nil {
		return nil, err
	}
	var hours []time.Time
	err = chunks(sessions, func(chunk []string) error {
		p := &Params{d: d}
		del := `DELETE FROM rollup_spans WHERE site = ` + p.Add(site) + ` AND session_id IN ` + inList(p, chunk) +
			` RETURNING ` + d.Micros("first_hour")
		removed, err := readHours(ctx, tx.Query, del, p.Args)
		if err != nil {
			return err
		}
		sql, args := d.insertSpansSQL(site, chunk)
		written, err := readHours(ctx, tx.Query, sql, args)
		hours = append(append(hours, removed...), written...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("while summing the sessions of site %q from %v that span rows: %w", site, lo, err)
	}
	return hours, nil
}

// spannedSessions returns the sessions of a site with shared rows in
// [lo, hi), or with a span overlapping it.
func (d *AnalyticsDialect) spannedSessions(ctx context.Context, tx RollupTx, site string, lo, hi time.Time) ([]string, error) {
	p := &Params{d: d}
	s := p.Add(site)
	sql := `SELECT r.session_id FROM rollup_sessions r
WHERE r.site = ` + s + ` AND r.hour >= ` + p.Add(d.Time(lo)) + ` AND r.hour < ` + p.Add(d.Time(hi)) + `
  AND r.shared <> 0 AND r.session_id IS NOT NULL
UNION
` + d.wholeSpansSQL(p, s, lo, hi) + `
UNION
` + d.splitSpansSQL(p, s, lo, hi)
	var ids []string
	err := tx.Query(ctx, sql, p.Args, func(scan func(...any) error) error {
		var id string
		if err := scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while listing the sessions of site %q from %v that span rows: %w", site, lo, err)
	}
	return ids, nil
}

// insertSpansSQL sums the shared rows of each of the site's sessions into
// a span, returning each span's first hour (microseconds). A session
// without shared rows (one row) has none.
func (d *AnalyticsDialect) insertSpansSQL(site string, sessions []string) (string, []any) {
	p := &Params{d: d}
	var differ []string
	for _, c := range []string{"channel", "campaign", "device"} {
		// min and max skip NULLs: the values are one when none is NULL
		// and they agree, or all are NULL.
		differ = append(differ, "NOT (count("+c+") = 0 OR (count("+c+") = count(*) AND min("+c+") = max("+c+")))")
	}
	differ = append(differ, "min(source) <> max(source)",
		d.Micros("max(hour)")+" - "+d.Micros("min(hour)")+" > "+strconv.FormatInt(maxWholeSpan.Microseconds(), 10))
	return `INSERT INTO rollup_spans (site, session_id, first_hour, last_hour, source, channel, campaign, device,
    split, bounces, secs, pageviews, conversions, revenue)
SELECT site, session_id, min(hour), max(hour), min(source), min(channel), min(campaign), min(device),
    CASE WHEN ` + strings.Join(differ, " OR ") + ` THEN 1 ELSE 0 END,
    CASE WHEN sum(events) = 1 AND sum(pageviews) = 1 THEN 1 ELSE 0 END,
    ` + d.Seconds("max(last_at)", "min(first_at)") + `,
    sum(pageviews), sum(conversions), coalesce(sum(revenue), 0)
FROM rollup_sessions
WHERE site = ` + p.Add(site) + ` AND shared <> 0 AND session_id IN ` + inList(p, sessions) + `
GROUP BY site, session_id
RETURNING ` + d.Micros("first_hour"), p.Args
}
