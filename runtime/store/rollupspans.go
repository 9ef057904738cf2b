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

// inList is a parenthesized list of the ids as parameters.
func inList(p *Params, ids []string) string {
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = p.Add(id)
	}
	return "(" + strings.Join(marks, ", ") + ")"
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

// refreshSpans rebuilds the spans of a site's sessions that have shared
// rows in [lo, hi), and of the sessions whose rows there were cleared,
// from their rows now. It returns the first hours of the spans it removed
// and wrote, whose rollup_hours rows must be rebuilt.
func (d *AnalyticsDialect) refreshSpans(ctx context.Context, tx RollupTx, site string, lo, hi time.Time, cleared []string) ([]time.Time, error) {
	sessions, err := d.sharedSessions(ctx, tx, site, lo, hi, cleared)
	if err != nil {
		return nil, err
	}
	var hours []time.Time
	collect := func(scan func(...any) error) error {
		var micros int64
		if err := scan(&micros); err != nil {
			return err
		}
		hours = append(hours, time.UnixMicro(micros).UTC())
		return nil
	}
	err = chunks(sessions, func(chunk []string) error {
		p := &Params{d: d}
		del := `DELETE FROM rollup_spans WHERE site = ` + p.Add(site) + ` AND session_id IN ` + inList(p, chunk) +
			` RETURNING ` + d.Micros("first_hour")
		if err := tx.Query(ctx, del, p.Args, collect); err != nil {
			return err
		}
		sql, args := d.insertSpansSQL(site, chunk)
		return tx.Query(ctx, sql, args, collect)
	})
	if err != nil {
		return nil, fmt.Errorf("while summing the sessions of site %q from %v that span rows: %w", site, lo, err)
	}
	return hours, nil
}

// sharedSessions returns the distinct ids of cleared and of the sessions
// with shared rows in [lo, hi).
func (d *AnalyticsDialect) sharedSessions(ctx context.Context, tx RollupTx, site string, lo, hi time.Time, cleared []string) ([]string, error) {
	seen := make(map[string]bool, len(cleared))
	ids := make([]string, 0, len(cleared))
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, id := range cleared {
		add(id)
	}
	p := &Params{d: d}
	sql := `SELECT DISTINCT r.session_id FROM rollup_sessions r
WHERE r.site = ` + p.Add(site) + ` AND r.hour >= ` + p.Add(d.Time(lo)) + ` AND r.hour < ` + p.Add(d.Time(hi)) + `
  AND r.shared <> 0 AND r.session_id IS NOT NULL`
	err := tx.Query(ctx, sql, p.Args, func(scan func(...any) error) error {
		var id string
		if err := scan(&id); err != nil {
			return err
		}
		add(id)
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
