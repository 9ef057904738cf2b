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

// rollupWhere is the condition on a rollup table r (rollup_sessions or
// rollup_hours) of the hours in [lo, hi) but skip that match q's filters
// (never a page: see rollups.go), after cond when cond is not empty.
func (d *AnalyticsDialect) rollupWhere(p *Params, q Query, cond string, lo, hi time.Time, skip []time.Time) string {
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
	return b.String()
}

// sessionPiece selects, as rows of pieceColumns, the rollup_sessions rows
// of the plan's rolled hours that match q and which (a condition on r).
func (d *AnalyticsDialect) sessionPiece(p *Params, q Query, bucket bucketFunc, r readPlan, which string) string {
	from, group, cond := bucket("rollup_sessions r", "r.hour")
	if cond != "" {
		which = cond + " AND " + which
	}
	return `SELECT ` + group + ` AS g, r.session_id, r.lone, r.visitor_id, r.events, r.pageviews, r.conversions, r.revenue, r.first_at, r.last_at
    FROM ` + from + `
    WHERE ` + d.rollupWhere(p, q, which, r.rolledFrom, r.rolledTo, r.skip)
}

// tierPiece sums per group the rollup_hours rows of the plan's rolled
// hours that match q, in the columns of mergeSQL's parts.
func (d *AnalyticsDialect) tierPiece(p *Params, q Query, bucket bucketFunc, r readPlan) string {
	from, group, cond := bucket("rollup_hours r", "r.hour")
	return `SELECT ` + group + ` AS g, sum(r.sessions), sum(r.bounces), sum(r.secs), sum(r.pageviews), sum(r.conversions), sum(r.revenue)
    FROM ` + from + `
    WHERE ` + d.rollupWhere(p, q, cond, r.rolledFrom, r.rolledTo, r.skip) + `
    GROUP BY g`
}

// visitorTierSQL selects the group and visitor bitmap of every
// rollup_hours row of the plan's rolled hours that matches q.
func (d *AnalyticsDialect) visitorTierSQL(q Query, bucket func(*Params) bucketFunc, r readPlan) (string, []any) {
	p := &Params{d: d}
	from, group, cond := bucket(p)("rollup_hours r", "r.hour")
	return `SELECT ` + group + `, r.visitors FROM ` + from + `
WHERE ` + d.rollupWhere(p, q, cond, r.rolledFrom, r.rolledTo, r.skip), p.Args
}

// rawVisitorsSQL selects the distinct groups and visitor ids of the
// plan's raw events that match q, with each visitor's rollup number when
// it has one.
func (d *AnalyticsDialect) rawVisitorsSQL(q Query, bucket func(*Params) bucketFunc, r readPlan) (string, []any) {
	p := &Params{d: d}
	raw := d.rawPieces(p, q, bucket(p), r)
	return `WITH raw (` + pieceColumns + `) AS (
` + raw + `
)
SELECT DISTINCT raw.g, raw.visitor_id, m.n FROM raw
LEFT JOIN rollup_visitors m ON m.site = ` + p.Add(q.Site) + ` AND m.visitor_id = raw.visitor_id
WHERE raw.visitor_id IS NOT NULL`, p.Args
}

// rawPieces selects the raw events of the plan that match q; never
// empty SQL, though it may select nothing.
func (d *AnalyticsDialect) rawPieces(p *Params, q Query, bucket bucketFunc, r readPlan) string {
	raw := []string{d.rawPiece(p, q, bucket, q.To, q.To)}
	for _, span := range r.raw {
		raw = append(raw, d.rawPiece(p, q, bucket, span[0], span[1]))
	}
	return strings.Join(raw, "\nUNION ALL\n")
}

// mergeSQL aggregates per group, in totalsSQL's shape but for visitors
// (0: they come from the bitmaps, see readVisitors), the rollups of the
// plan's rolled hours and the plan's raw events.
//
// A rollup_sessions row not shared (see markSharedSQL) is the whole of its
// session in the rollups, and rollup_hours holds the sums of those rows
// per hour and dimension values: unless raw holds more of that session,
// the row alone is the session's part of the range, and its hour's sums
// count it as they are. Every other session is merged from its rows and
// events: the shared rows, the unshared rows whose session raw holds more
// of ("joined", whose part in the hourly sums is taken back out), and the
// raw events; their sums, and its duration from the least first_at to the
// greatest last_at. So only the few sessions spanning hours (or dimension
// values) are merged per session. A session's counts are cast back to
// integer so that PostgreSQL sums them as bigint.
func (d *AnalyticsDialect) mergeSQL(p *Params, q Query, bucket bucketFunc, r readPlan) string {
	raw := d.rawPieces(p, q, bucket, r)
	shared := d.sessionPiece(p, q, bucket, r, "r.shared <> 0")
	joined := d.sessionPiece(p, q, bucket, r, "r.shared = 0 AND "+d.inSet("r.session_id", "SELECT session_id FROM raw WHERE session_id IS NOT NULL"))
	tier := d.tierPiece(p, q, bucket, r)
	return `WITH raw (` + pieceColumns + `) AS MATERIALIZED (
` + raw + `
), joined (` + pieceColumns + `) AS MATERIALIZED (
` + joined + `
), ev AS NOT MATERIALIZED (
` + shared + `
    UNION ALL
    SELECT ` + pieceColumns + ` FROM joined
    UNION ALL
    SELECT ` + pieceColumns + ` FROM raw
), sess AS (
    SELECT g, CAST(sum(events) AS integer) AS n, CAST(sum(pageviews) AS integer) AS pv,
        CAST(sum(conversions) AS integer) AS conversions, sum(revenue) AS revenue,
        ` + d.Seconds("max(last_at)", "min(first_at)") + ` AS secs
    FROM ev
    GROUP BY g, session_id, lone
), parts (g, sessions, bounces, secs, pageviews, conversions, revenue) AS (
    SELECT g, count(*), sum(CASE WHEN n = 1 AND pv = 1 THEN 1 ELSE 0 END),
        sum(secs), sum(pv), sum(conversions), sum(revenue)
    FROM sess GROUP BY g
    UNION ALL
    SELECT g, -count(*), -sum(CASE WHEN events = 1 AND pageviews = 1 THEN 1 ELSE 0 END),
        -sum(` + d.Seconds("last_at", "first_at") + `), -sum(pageviews), -sum(conversions), -sum(revenue)
    FROM joined GROUP BY g
    UNION ALL
` + tier + `
)
SELECT g, 0, sum(pageviews), sum(conversions), coalesce(sum(revenue), 0), sum(sessions), sum(bounces), sum(secs)
FROM parts GROUP BY g`
}

// rolledSQL is the statement of a read planned by r, in the shape of
// totalsSQL but for visitors: per bucket of starts (one group 0 when
// starts is nil).
func (d *AnalyticsDialect) rolledSQL(q Query, bucket func(*Params) bucketFunc, r readPlan) (string, []any) {
	p := &Params{d: d}
	return d.mergeSQL(p, q, bucket(p), r), p.Args
}

// markSharedSQL marks shared the rollup rows of every session that has
// more than one row, after the rows of [lo, hi) were rolled up (anew),
// returning the hours of the rows it marked.
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
    GROUP BY o.session_id HAVING count(*) > 1)
RETURNING ` + d.Micros("hour"), p.Args
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

// clearRollupsSQL deletes a site's rollup rows of [lo, hi), returning
// their visitor ids.
func (d *AnalyticsDialect) clearRollupsSQL(site string, lo, hi time.Time) (string, []any) {
	p := &Params{d: d}
	return `DELETE FROM rollup_sessions WHERE site = ` + p.Add(site) +
		` AND hour >= ` + p.Add(d.Time(lo)) + ` AND hour < ` + p.Add(d.Time(hi)) + ` RETURNING visitor_id`, p.Args
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
