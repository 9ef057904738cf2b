package store

import (
	"fmt"
	"strings"
	"time"
)

// The statements of the rollups (see rollups.go), shared by both SQL
// stores through AnalyticsDialect.

// pieceColumns are what a read takes from a rollup row or an event, in
// this order: the group, the session (session_id, and lone: the event's
// seq when it has no session id, so such events stay sessions of their
// own), the visitor, the counts and revenue, and the first and last
// occurred_at.
const pieceColumns = "g, session_id, lone, visitor_id, events, pageviews, conversions, revenue, first_at, last_at"

// bucketFunc returns the FROM list, group and condition of a piece that
// reads table by the time at (see AnalyticsDialect.Buckets).
type bucketFunc func(table, at string) (from, group, cond string)

// whereRange is where over [lo, hi) instead of the query's range.
func (d *AnalyticsDialect) whereRange(p *Params, q Query, lo, hi time.Time) string {
	q.From, q.To = lo, hi
	return d.where(p, q)
}

// rawPiece selects the events of [lo, hi) that match q as rows of
// pieceColumns.
func (d *AnalyticsDialect) rawPiece(p *Params, q Query, bucket bucketFunc, lo, hi time.Time) string {
	from, group, cond := bucket("events e", "e.received_at")
	if cond != "" {
		cond += " AND "
	}
	return `SELECT ` + group + ` AS g, e.session_id, CASE WHEN e.session_id IS NULL THEN e.seq END AS lone, e.visitor_id,
        1 AS events, CASE WHEN e.type = 'pageview' THEN 1 ELSE 0 END AS pageviews,
        CASE WHEN e.type = 'conversion' THEN 1 ELSE 0 END AS conversions,
        CASE WHEN e.type = 'conversion' THEN e.value END AS revenue,
        e.occurred_at AS first_at, e.occurred_at AS last_at
    FROM ` + from + `
    WHERE ` + cond + d.whereRange(p, q, lo, hi)
}

// rollupPiece selects the rollup rows of the hours in [lo, hi) but skip
// that match q's filters (never a page: see rollups.go), as rows of
// pieceColumns and shared.
func (d *AnalyticsDialect) rollupPiece(p *Params, q Query, bucket bucketFunc, lo, hi time.Time, skip []time.Time) string {
	from, group, cond := bucket("rollup_sessions r", "r.hour")
	var b strings.Builder
	if cond != "" {
		b.WriteString(cond + " AND ")
	}
	fmt.Fprintf(&b, "r.site = %s AND r.hour >= %s AND r.hour < %s", p.Add(q.Site), p.Add(d.Time(lo)), p.Add(d.Time(hi)))
	if len(skip) > 0 {
		hours := make([]string, len(skip))
		for i, h := range skip {
			hours[i] = p.Add(d.Time(h))
		}
		fmt.Fprintf(&b, " AND r.hour NOT IN (%s)", strings.Join(hours, ", "))
	}
	f := q.Filters
	for _, c := range []struct{ column, value string }{
		{"r.source", f.Source}, {"r.channel", f.Channel}, {"r.campaign", f.Campaign}, {"r.device", f.Device},
	} {
		if c.value != "" {
			fmt.Fprintf(&b, " AND %s = %s", c.column, p.Add(c.value))
		}
	}
	return `SELECT ` + group + ` AS g, r.session_id, r.lone, r.visitor_id, r.events, r.pageviews, r.conversions, r.revenue, r.first_at, r.last_at, r.shared
    FROM ` + from + `
    WHERE ` + b.String()
}

// mergeSQL aggregates the rollup rows of rolled and the events of raw
// per group, as totalsSQL does events alone.
//
// A rollup row not shared (see markSharedSQL) is the whole of its session
// in the rollups; unless raw holds more of that session, the row alone is
// the session's part of the range, and adds to the group's sessions,
// bounces and seconds as it is. Every other session is merged from its
// rows and events: their sums, and its duration from the least first_at
// to the greatest last_at. This keeps the hash of sessions to the few
// that span hours (or dimension values), where it was most of a read.
// Visitors are the distinct visitor ids of both. A session's counts are
// cast back to integer so that PostgreSQL sums them as bigint.
//
// The raw events are materialized (they are few, and read four times);
// rollup rows are read again rather than written to a temporary table.
func (d *AnalyticsDialect) mergeSQL(rolled string, raw []string) string {
	return `WITH raw (` + pieceColumns + `) AS MATERIALIZED (
` + strings.Join(raw, "\nUNION ALL\n") + `
), rolled (` + pieceColumns + `, shared) AS NOT MATERIALIZED (
` + rolled + `
), ev AS NOT MATERIALIZED (
    SELECT ` + pieceColumns + ` FROM rolled
    WHERE shared <> 0 OR session_id IN (SELECT session_id FROM raw)
    UNION ALL
    SELECT ` + pieceColumns + ` FROM raw
), one AS NOT MATERIALIZED (
    SELECT g, events, pageviews, conversions, revenue, first_at, last_at FROM rolled
    WHERE shared = 0 AND (session_id IS NULL OR session_id NOT IN (SELECT session_id FROM raw WHERE session_id IS NOT NULL))
), sess AS (
    SELECT g, CAST(sum(events) AS integer) AS n, CAST(sum(pageviews) AS integer) AS pv,
        CAST(sum(conversions) AS integer) AS conversions, sum(revenue) AS revenue,
        ` + d.Seconds("max(last_at)", "min(first_at)") + ` AS secs
    FROM ev
    GROUP BY g, session_id, lone
), parts AS (
    SELECT g, count(*) AS sessions, sum(CASE WHEN n = 1 AND pv = 1 THEN 1 ELSE 0 END) AS bounces,
        sum(secs) AS secs, sum(pv) AS pageviews, sum(conversions) AS conversions, sum(revenue) AS revenue
    FROM sess GROUP BY g
    UNION ALL
    SELECT g, count(*), sum(CASE WHEN events = 1 AND pageviews = 1 THEN 1 ELSE 0 END),
        sum(` + d.Seconds("last_at", "first_at") + `), sum(pageviews), sum(conversions), sum(revenue)
    FROM one GROUP BY g
), by_session AS (
    SELECT g, sum(sessions) AS sessions, sum(bounces) AS bounces, sum(secs) AS secs,
        sum(pageviews) AS pageviews, sum(conversions) AS conversions, coalesce(sum(revenue), 0) AS revenue
    FROM parts GROUP BY g
), by_visitor AS (
    SELECT g, count(*) AS visitors
    FROM (SELECT g, visitor_id FROM rolled WHERE visitor_id IS NOT NULL
          UNION
          SELECT g, visitor_id FROM raw WHERE visitor_id IS NOT NULL) v
    GROUP BY g
)
SELECT by_session.g, coalesce(visitors, 0), pageviews, conversions, revenue, sessions, bounces, secs
FROM by_session LEFT JOIN by_visitor ON by_visitor.g = by_session.g`
}

// rolledSQL is the statement of a read planned by r, in the shape of
// totalsSQL: per bucket of starts (one group 0 when starts is nil). The
// plan has rolled hours; raw always has a piece, empty when the plan
// reads no events.
func (d *AnalyticsDialect) rolledSQL(q Query, starts []time.Time, r readPlan) (string, []any) {
	p := &Params{d: d}
	bucket := func(table, at string) (string, string, string) {
		if starts == nil {
			return table, "0", ""
		}
		return d.Buckets(p, starts, q.To, table, at)
	}
	rolled := d.rollupPiece(p, q, bucket, r.rolledFrom, r.rolledTo, r.skip)
	raw := []string{d.rawPiece(p, q, bucket, q.To, q.To)}
	for _, span := range r.raw {
		raw = append(raw, d.rawPiece(p, q, bucket, span[0], span[1]))
	}
	return d.mergeSQL(rolled, raw), p.Args
}

// markSharedSQL marks shared the rollup rows of every session that has
// more than one row, after the rows of [lo, hi) were rolled up (anew).
// A row not shared is then the only one of its session, which reads rely
// on; a row marked shared needlessly (its other rows deleted since) is
// merged at read time like the others, so marks are never taken back.
// An event without a session id is always a session of its own.
func (d *AnalyticsDialect) markSharedSQL(site string, lo, hi time.Time) (string, []any) {
	p := &Params{d: d}
	s := p.Add(site)
	return `UPDATE rollup_sessions SET shared = 1
WHERE site = ` + s + ` AND shared = 0 AND session_id IN (
    SELECT o.session_id FROM rollup_sessions o
    WHERE o.site = ` + s + ` AND o.session_id IN (
        SELECT n.session_id FROM rollup_sessions n
        WHERE n.site = ` + s + ` AND n.hour >= ` + p.Add(d.Time(lo)) + ` AND n.hour < ` + p.Add(d.Time(hi)) + `
          AND n.session_id IS NOT NULL)
    GROUP BY o.session_id HAVING count(*) > 1)`, p.Args
}

// rollupStateSQL reads a site's rolled_to (microseconds) and watermark.
func (d *AnalyticsDialect) rollupStateSQL(site string) (string, []any) {
	p := &Params{d: d}
	return `SELECT ` + d.Micros("rolled_to") + `, watermark FROM rollup_state WHERE site = ` + p.Add(site), p.Args
}

// saveRollupStateSQL stores a site's rolled_to and watermark.
func (d *AnalyticsDialect) saveRollupStateSQL(site string, rolledTo time.Time, w int64) (string, []any) {
	p := &Params{d: d}
	return `INSERT INTO rollup_state (site, rolled_to, watermark) VALUES (` +
		p.Add(site) + `, ` + p.Add(d.Time(rolledTo)) + `, ` + p.Add(w) + `)
ON CONFLICT (site) DO UPDATE SET rolled_to = excluded.rolled_to, watermark = excluded.watermark`, p.Args
}

// staleHoursSQL lists (as microseconds) the hours in [lo, hi) that hold
// an event stored after watermark w. The feed's index finds those events
// (PostgreSQL: site, txid; SQLite: site, seq) without reading the others.
func (d *AnalyticsDialect) staleHoursSQL(site string, w int64, lo, hi time.Time) (string, []any) {
	p := &Params{d: d}
	return `SELECT DISTINCT ` + d.Micros(d.Hour) + ` FROM ` + d.LateEvents + `
WHERE e.site = ` + p.Add(site) + ` AND ` + d.Late(p, w) + `
  AND e.received_at >= ` + p.Add(d.Time(lo)) + ` AND e.received_at < ` + p.Add(d.Time(hi)), p.Args
}

// nextEventSQL reads the received_at (microseconds) of a site's first
// event received at or after from, NULL when there is none.
func (d *AnalyticsDialect) nextEventSQL(site string, from time.Time) (string, []any) {
	p := &Params{d: d}
	return `SELECT ` + d.Micros("min(e.received_at)") + ` FROM events e WHERE e.site = ` + p.Add(site) +
		` AND e.received_at >= ` + p.Add(d.Time(from)), p.Args
}

// clearRollupsSQL deletes a site's rollup rows of [lo, hi).
func (d *AnalyticsDialect) clearRollupsSQL(site string, lo, hi time.Time) (string, []any) {
	p := &Params{d: d}
	return `DELETE FROM rollup_sessions WHERE site = ` + p.Add(site) +
		` AND hour >= ` + p.Add(d.Time(lo)) + ` AND hour < ` + p.Add(d.Time(hi)), p.Args
}

// rollUpSQL rolls up a site's events of [lo, hi) that watermark w
// includes: a row per hour, dimension values, session and visitor.
func (d *AnalyticsDialect) rollUpSQL(site string, lo, hi time.Time, w int64) (string, []any) {
	p := &Params{d: d}
	return `INSERT INTO rollup_sessions (site, hour, source, channel, campaign, device, session_id, lone, visitor_id,
    events, pageviews, conversions, revenue, first_at, last_at)
SELECT e.site, ` + d.Hour + `, ` + d.source() + `, e.channel, e.utm_campaign, e.device_type, e.session_id,
    CASE WHEN e.session_id IS NULL THEN e.seq END, e.visitor_id,
    count(*), sum(CASE WHEN e.type = 'pageview' THEN 1 ELSE 0 END),
    sum(CASE WHEN e.type = 'conversion' THEN 1 ELSE 0 END),
    sum(CASE WHEN e.type = 'conversion' THEN e.value END),
    min(e.occurred_at), max(e.occurred_at)
FROM events e
WHERE e.site = ` + p.Add(site) + ` AND e.received_at >= ` + p.Add(d.Time(lo)) + ` AND e.received_at < ` + p.Add(d.Time(hi)) + `
  AND NOT (` + d.Late(p, w) + `)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`, p.Args
}
