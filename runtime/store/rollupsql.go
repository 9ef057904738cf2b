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
// reads table by the time at, in [lo, hi) (see AnalyticsDialect.Buckets).
type bucketFunc func(table, at string, lo, hi time.Time) (from, group, cond string)

// whereRange is where over [lo, hi) instead of the query's range.
func (d *AnalyticsDialect) whereRange(p *Params, q Query, lo, hi time.Time) string {
	q.From, q.To = lo, hi
	return d.where(p, q)
}

// rawPiece selects the events of [lo, hi) that match q as rows of
// pieceColumns.
func (d *AnalyticsDialect) rawPiece(p *Params, q Query, bucket bucketFunc, lo, hi time.Time) string {
	from, group, cond := bucket("events e", "e.received_at", lo, hi)
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
	return d.rollupWhereOn(p, q, "r", "r.hour", cond, lo, hi, skip)
}

// rollupWhereOn is rollupWhere on the table of alias by its hour column.
func (d *AnalyticsDialect) rollupWhereOn(p *Params, q Query, alias, hour, cond string, lo, hi time.Time, skip []time.Time) string {
	var b strings.Builder
	if cond != "" {
		b.WriteString(cond + " AND ")
	}
	fmt.Fprintf(&b, "%s.site = %s AND %s >= %s AND %s < %s", alias, p.Add(q.Site), hour, p.Add(d.Time(lo)), hour, p.Add(d.Time(hi)))
	if len(skip) > 0 {
		hours := make([]any, len(skip))
		for i, h := range skip {
			hours[i] = d.Time(h)
		}
		fmt.Fprintf(&b, " AND %s NOT IN %s", hour, inList(p, hours))
	}
	f := q.Filters
	for _, c := range []struct{ column, value string }{
		{"source", f.Source}, {"channel", f.Channel}, {"campaign", f.Campaign}, {"device", f.Device},
	} {
		if c.value != "" {
			fmt.Fprintf(&b, " AND %s.%s = %s", alias, c.column, p.Add(c.value))
		}
	}
	return b.String()
}

// foundSQL selects the rollup_sessions rows of the plan's rolled hours
// that match q and belong to the sessions of cut (a CTE of distinct
// session ids), as rows of pieceColumns but the group, and shared. Each
// session's rows are looked up on the (site, session_id) index: for
// SQLite by a CROSS JOIN from cut, which it takes as the join order, and
// INDEXED BY.
func (d *AnalyticsDialect) foundSQL(p *Params, q Query, r readPlan) string {
	cols := `r.session_id, r.lone, r.visitor_id, r.events, r.pageviews, r.conversions, r.revenue, r.first_at, r.last_at, r.shared, r.hour`
	if d.InSetAsArray {
		return `SELECT ` + cols + ` FROM rollup_sessions r
    WHERE ` + d.rollupWhere(p, q, d.inSet("r.session_id", "SELECT session_id FROM cut"), r.rolledFrom, r.rolledTo, r.skip)
	}
	// Without statistics SQLite would rather read the hours' range for
	// each session; the index is named, and its condition repeated.
	return `SELECT ` + cols + ` FROM cut c CROSS JOIN rollup_sessions r INDEXED BY rollup_sessions_site_session_idx
    WHERE ` + d.rollupWhere(p, q, "r.session_id IS NOT NULL AND r.session_id = c.session_id", r.rolledFrom, r.rolledTo, r.skip)
}

// spansOf is the FROM item and condition of the spans of the sessions
// of subquery (distinct ids), looked up by primary key as foundSQL looks
// rows up.
func (d *AnalyticsDialect) spansOf(subquery string) (from, cond string) {
	if d.InSetAsArray {
		return "rollup_spans s", d.inSet("s.session_id", subquery)
	}
	return "(" + subquery + ") c CROSS JOIN rollup_spans s", "s.session_id = c.session_id"
}

// tierTable is the hourly tier a query reads: rollup_hours_all, a row
// per hour, unless it filters by a dimension value.
func tierTable(q Query) string {
	f := q.Filters
	if f.Source == "" && f.Channel == "" && f.Campaign == "" && f.Device == "" {
		return "rollup_hours_all"
	}
	return "rollup_hours"
}

// tierPiece sums per group the rollup_hours rows of the plan's rolled
// hours that match q, in the columns of mergeSQL's parts.
func (d *AnalyticsDialect) tierPiece(p *Params, q Query, bucket bucketFunc, r readPlan) string {
	from, group, cond := bucket(tierTable(q)+" r", "r.hour", r.rolledFrom, r.rolledTo)
	return `SELECT ` + group + ` AS g, sum(r.sessions), sum(r.bounces), sum(r.secs), sum(r.pageviews), sum(r.conversions), sum(r.revenue)
    FROM ` + from + `
    WHERE ` + d.rollupWhere(p, q, cond, r.rolledFrom, r.rolledTo, r.skip) + `
    GROUP BY g`
}

// visitorTierSQL selects the group and visitor bitmap of every
// rollup_hours row of the plan's rolled hours that matches q.
func (d *AnalyticsDialect) visitorTierSQL(q Query, bucket func(*Params) bucketFunc, r readPlan) (string, []any) {
	p := &Params{d: d}
	from, group, cond := bucket(p)(tierTable(q)+" r", "r.hour", r.rolledFrom, r.rolledTo)
	return `SELECT ` + group + `, r.visitors FROM ` + from + `
WHERE ` + d.rollupWhere(p, q, cond, r.rolledFrom, r.rolledTo, r.skip), p.Args
}

// rawVisitorsSQL selects the distinct groups and visitor ids of the
// plan's raw events that match q, with each visitor's rollup number when
// it has one. The number is looked up per distinct visitor: a join let
// PostgreSQL hash all of the site's numbers for a few thousand visitors.
func (d *AnalyticsDialect) rawVisitorsSQL(q Query, bucket func(*Params) bucketFunc, r readPlan) (string, []any) {
	p := &Params{d: d}
	raw := d.rawPieces(p, q, bucket(p), r)
	return `WITH raw (` + pieceColumns + `) AS (
` + raw + `
)
SELECT v.g, v.visitor_id,
    (SELECT m.n FROM rollup_visitors m WHERE m.site = ` + p.Add(q.Site) + ` AND m.visitor_id = v.visitor_id)
FROM (SELECT DISTINCT g, visitor_id FROM raw WHERE visitor_id IS NOT NULL) v`, p.Args
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
// rollup_hours holds, per hour and dimension values, the sums of the
// sessions that are whole there: the rollup_sessions rows not shared
// (each its session's only row; see markSharedSQL), and the spans not
// split that start in the hour (rollupspans.go). Most sessions of a range
// are whole in it and count as they are. The others, cut, are merged
// from their rows in the rolled hours and their raw events, and their
// part of the hourly sums is taken back out. They are the sessions of
// the spans a boundary cuts (cutSpansSQL), and those raw events hold
// more of (a session running into the open hour); found are their rows
// in the rolled hours, looked up once per session:
//
//   - a found row not shared is its session's whole in the rollups, and
//     counted in its hour's sums: it is taken back;
//   - a found row shared belongs to a span, which is taken back where the
//     hourly sums counted it (split = 0, its first hour read from the
//     rollups and matching the filters, as then its first row is found).
//
// A merged session's sums, and its duration from the least first_at to
// the greatest last_at, are what the raw statement computes from its
// events. Its counts are cast back to integer so that PostgreSQL sums
// them as bigint.
func (d *AnalyticsDialect) mergeSQL(p *Params, q Query, bucket bucketFunc, starts []time.Time, r readPlan) string {
	raw := d.rawPieces(p, q, bucket, r)
	cut := d.cutSpansSQL(p, q, starts, r)
	found := d.foundSQL(p, q, r)
	fFrom, fGroup, fCond := bucket("found0 f", "f.hour", r.rolledFrom, r.rolledTo)
	if fCond != "" {
		fCond = "WHERE " + fCond
	}
	spans, lookup := d.spansOf("SELECT DISTINCT session_id FROM found WHERE shared <> 0")
	from, group, cond := bucket(spans, "s.first_hour", r.rolledFrom, r.rolledTo)
	which := "s.split = 0 AND " + lookup
	if cond != "" {
		which = cond + " AND " + which
	}
	takeBack := `SELECT ` + group + ` AS g, -count(*), -sum(s.bounces), -sum(s.secs), -sum(s.pageviews), -sum(s.conversions), -sum(s.revenue)
    FROM ` + from + `
    WHERE ` + d.rollupWhereOn(p, q, "s", "s.first_hour", which, r.rolledFrom, r.rolledTo, r.skip) + `
    GROUP BY g`
	tier := d.tierPiece(p, q, bucket, r)
	return `WITH raw (` + pieceColumns + `) AS MATERIALIZED (
` + raw + `
), cut (session_id) AS MATERIALIZED (
` + cut + `
    UNION
    SELECT session_id FROM raw WHERE session_id IS NOT NULL
), found0 AS MATERIALIZED (
` + found + `
), found (` + pieceColumns + `, shared) AS MATERIALIZED (
    SELECT ` + fGroup + `, f.session_id, f.lone, f.visitor_id, f.events, f.pageviews, f.conversions, f.revenue, f.first_at, f.last_at, f.shared
    FROM ` + fFrom + ` ` + fCond + `
), ev AS NOT MATERIALIZED (
    SELECT ` + pieceColumns + ` FROM found
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
    FROM found WHERE shared = 0 GROUP BY g
    UNION ALL
` + takeBack + `
    UNION ALL
` + tier + `
)
SELECT g, 0, sum(pageviews), sum(conversions), coalesce(sum(revenue), 0), sum(sessions), sum(bounces), sum(secs)
FROM parts GROUP BY g`
}

// cutSpansSQL selects the sessions of the spans a read planned by r must
// merge from rows: those not split that a boundary cuts (a span holding
// hours on both sides of the rolled hours' ends or of a bucket's start),
// and every split span overlapping the rolled hours. A span holding a
// skipped hour needs no arm: its
// events of that hour are among the raw events, whose sessions mergeSQL
// adds.
func (d *AnalyticsDialect) cutSpansSQL(p *Params, q Query, starts []time.Time, r readPlan) string {
	site := p.Add(q.Site)
	cuts := []time.Time{r.rolledFrom, r.rolledTo}
	for _, s := range starts {
		if s.After(r.rolledFrom) && s.Before(r.rolledTo) {
			cuts = append(cuts, s)
		}
	}
	var arms []string
	for _, c := range cuts {
		arms = append(arms, d.wholeSpansSQL(p, site, c, c))
	}
	arms = append(arms, d.splitSpansSQL(p, site, r.rolledFrom, r.rolledTo))
	return strings.Join(arms, "\nUNION\n")
}

// rolledSQL is the statement of a read planned by r, in the shape of
// totalsSQL but for visitors: per bucket of starts (one group 0 when
// starts is nil).
func (d *AnalyticsDialect) rolledSQL(q Query, starts []time.Time, bucket func(*Params) bucketFunc, r readPlan) (string, []any) {
	p := &Params{d: d}
	return d.mergeSQL(p, q, bucket(p), starts, r), p.Args
}

// markSharedSQL marks shared the rollup rows of every session that has
// more than one row, after the rows of [lo, hi) were rolled up (anew),
// returning the hours of the rows it marked.
// A row not shared is then the only one of its session, which reads rely
// on; a row marked shared needlessly (its other rows deleted since) is
// summed into a span like the others, so marks are never taken back.
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
