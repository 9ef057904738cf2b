package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// AnalyticsDialect is what the analytics SQL needs to know of a database.
// Both SQL stores share the statements below (SQLAnalytics); only these
// pieces differ.
type AnalyticsDialect struct {
	// Param is the placeholder of the n-th argument (from 1).
	Param func(n int) string
	// Time is how a received_at bound is passed.
	Time func(t time.Time) any
	// Page is an expression for the page (URLPath) of e.url, NULL when
	// the event has no URL.
	Page string
	// RefHost is an expression for the host (URLHost) of e.referrer, NULL
	// when there is none.
	RefHost string
	// Seconds formats an expression for the seconds from the occurred_at
	// value of its second argument to that of its first.
	Seconds func(later, earlier string) string
	// Buckets returns how a series assigns rows to the buckets that start
	// at starts (the last ends at end) by the time at: the FROM list (with
	// table, "events e" or a rollup table), the group (the 0-based bucket
	// number) and conditions to AND with the others ("" for none). Its
	// arguments go to p.
	Buckets func(p *Params, starts []time.Time, end time.Time, table, at string) (from, group, cond string)
	// Hour is an expression for the start of the UTC hour of e.received_at.
	Hour string
	// Micros formats an expression for a time expression as integer
	// microseconds since the Unix epoch.
	Micros func(time string) string
	// Late is the condition that event e was stored after the rollup
	// watermark w was taken (see rollups.go).
	Late func(p *Params, w int64) string
	// LateEvents is the FROM item (events e) that finds Late events
	// through the index on the watermark's column rather than by time.
	LateEvents string
	// Watermark is a statement returning the watermark of the rollups it
	// runs beside: every event stored by then is not Late.
	Watermark string
	// Collate follows a text expression in ORDER BY to order by bytes, as
	// both stores must.
	Collate string
	// InSetAsArray writes "expr is one of a subquery's rows" as
	// expr = ANY(ARRAY(subquery)) (PostgreSQL) rather than IN.
	InSetAsArray bool
}

// Params collects a statement's arguments, naming each by its placeholder.
type Params struct {
	d    *AnalyticsDialect
	Args []any
}

// Add appends v and returns its placeholder.
func (p *Params) Add(v any) string {
	p.Args = append(p.Args, v)
	return p.d.Param(len(p.Args))
}

// source is utm_source, else the referrer's host, else "(direct)". Empty
// strings are stored as NULL in both stores.
func (d *AnalyticsDialect) source() string {
	return "coalesce(e.utm_source, " + d.RefHost + ", '(direct)')"
}

// dimension returns the expression of a dimension's value.
func (d *AnalyticsDialect) dimension(dim string) (string, error) {
	switch dim {
	case DimPage:
		return d.Page, nil
	case DimSource:
		return d.source(), nil
	case DimReferrer:
		return d.RefHost, nil
	case DimChannel:
		return "e.channel", nil
	case DimCampaign:
		return "e.utm_campaign", nil
	case DimDevice:
		return "e.device_type", nil
	case DimBrowser:
		return "e.device_browser", nil
	case DimOS:
		return "e.device_os", nil
	}
	return "", fmt.Errorf("unknown dimension %q (want one of page, source, referrer, channel, campaign, device, browser, os)", dim)
}

// where returns the conditions every report has: the site, the range and
// the filters. The range on received_at lets PostgreSQL prune partitions
// and both stores read the (site, received_at) index.
func (d *AnalyticsDialect) where(p *Params, q Query) string {
	var b strings.Builder
	fmt.Fprintf(&b, "e.site = %s AND e.received_at >= %s AND e.received_at < %s",
		p.Add(q.Site), p.Add(d.Time(q.From)), p.Add(d.Time(q.To)))
	f := q.Filters
	for _, c := range []struct{ expr, value string }{
		{d.Page, f.Page},
		{d.source(), f.Source},
		{"e.channel", f.Channel},
		{"e.utm_campaign", f.Campaign},
		{"e.device_type", f.Device},
	} {
		if c.value != "" {
			fmt.Fprintf(&b, " AND %s = %s", c.expr, p.Add(c.value))
		}
	}
	return b.String()
}

// totalsSQL aggregates the events of from (events e, maybe joined to
// buckets) that match where, per group, an expression (or a constant for
// one group). Each row is: group,
// visitors, pageviews, conversions, revenue, sessions, bounces and the
// summed seconds of the sessions.
//
// Sessions are counted per group, from the group's events only. An event
// without a session id is a session of its own: grouping by seq as well
// when session_id is NULL keeps such events apart without inventing ids
// that could collide with real ones. Every event is in exactly one
// session of its group, so both halves have the same groups.
func (d *AnalyticsDialect) totalsSQL(group, from, where string) string {
	return `WITH ev AS (
    SELECT ` + group + ` AS g, e.visitor_id, e.session_id, e.seq, e.type, e.value, e.occurred_at
    FROM ` + from + `
    WHERE ` + where + `
), sess AS (
    SELECT g, count(*) AS n,
        sum(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END) AS pv,
        ` + d.Seconds("max(occurred_at)", "min(occurred_at)") + ` AS secs
    FROM ev
    GROUP BY g, session_id, CASE WHEN session_id IS NULL THEN seq END
), by_session AS (
    SELECT g, count(*) AS sessions,
        sum(CASE WHEN n = 1 AND pv = 1 THEN 1 ELSE 0 END) AS bounces,
        sum(secs) AS secs
    FROM sess GROUP BY g
), by_event AS (
    SELECT g, count(DISTINCT visitor_id) AS visitors,
        sum(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END) AS pageviews,
        sum(CASE WHEN type = 'conversion' THEN 1 ELSE 0 END) AS conversions,
        coalesce(sum(CASE WHEN type = 'conversion' THEN value END), 0) AS revenue
    FROM ev GROUP BY g
)
SELECT by_event.g, visitors, pageviews, conversions, revenue, sessions, bounces, secs
FROM by_event JOIN by_session ON by_session.g = by_event.g`
}

// TotalsSQL is the statement of Totals: one row (none without events).
func (d *AnalyticsDialect) TotalsSQL(q Query) (string, []any) {
	p := &Params{d: d}
	return d.totalsSQL("0", "events e", d.where(p, q)), p.Args
}

// SeriesSQL is the statement of Series: a row per bucket with events,
// the group being the bucket's number in starts.
func (d *AnalyticsDialect) SeriesSQL(q Query, starts []time.Time, end time.Time) (string, []any) {
	p := &Params{d: d}
	from, group, cond := d.Buckets(p, starts, end, "events e", "e.received_at")
	if cond != "" {
		cond += " AND "
	}
	return d.totalsSQL(group, from, cond+d.where(p, q)), p.Args
}

// BreakdownSQL is the statement of Breakdown: value ("" for none),
// visitors, pageviews, conversions, revenue.
func (d *AnalyticsDialect) BreakdownSQL(q Query, dim string, limit int) (string, []any, error) {
	expr, err := d.dimension(dim)
	if err != nil {
		return "", nil, err
	}
	p := &Params{d: d}
	sql := `SELECT value, visitors, pageviews, conversions, revenue FROM (
    SELECT coalesce(` + expr + `, '') AS value,
        count(DISTINCT e.visitor_id) AS visitors,
        sum(CASE WHEN e.type = 'pageview' THEN 1 ELSE 0 END) AS pageviews,
        sum(CASE WHEN e.type = 'conversion' THEN 1 ELSE 0 END) AS conversions,
        coalesce(sum(CASE WHEN e.type = 'conversion' THEN e.value END), 0) AS revenue
    FROM events e
    WHERE ` + d.where(p, q) + `
    GROUP BY coalesce(` + expr + `, '')
) r
ORDER BY visitors DESC, pageviews DESC, value` + d.Collate + `
LIMIT ` + p.Add(limit)
	return sql, p.Args, nil
}

// VisitorsSQL counts the query's distinct visitors, the base of goals'
// conversion rates.
func (d *AnalyticsDialect) VisitorsSQL(q Query) (string, []any) {
	p := &Params{d: d}
	return `SELECT count(DISTINCT e.visitor_id) FROM events e WHERE ` + d.where(p, q), p.Args
}

// GoalSQL is the statement of one goal: visitors, completions, revenue.
func (d *AnalyticsDialect) GoalSQL(q Query, g Goal) (string, []any, error) {
	if err := ValidateGoal(g); err != nil {
		return "", nil, err
	}
	p := &Params{d: d}
	where := d.where(p, q)
	var match string
	switch {
	case g.Event != "":
		match = "e.name = " + p.Add(g.Event)
	case strings.HasSuffix(g.Path, "*"):
		// substr rather than LIKE: a path may hold % and _, and needs no
		// escaping this way. Both databases count characters.
		prefix := strings.TrimSuffix(g.Path, "*")
		match = fmt.Sprintf("e.type = 'pageview' AND substr(%s, 1, %s) = %s",
			d.Page, p.Add(utf8.RuneCountInString(prefix)), p.Add(prefix))
	default:
		match = "e.type = 'pageview' AND " + d.Page + " = " + p.Add(g.Path)
	}
	return `SELECT count(DISTINCT e.visitor_id), count(*), coalesce(sum(e.value), 0)
FROM events e
WHERE ` + where + ` AND ` + match, p.Args, nil
}

// ValidateGoal checks that a goal names an event or a path, not both.
func ValidateGoal(g Goal) error {
	switch {
	case g.Event != "" && g.Path != "":
		return fmt.Errorf("goal %q has both an event and a path; it must have one", g.Name)
	case g.Event == "" && g.Path == "":
		return fmt.Errorf("goal %q has neither an event nor a path", g.Name)
	}
	return nil
}
