/*
Package dashboard is the per-site dashboard's HTTP side: the analytics API
under /api/v1/sites/{site}/ (JSON, or CSV with ?format=csv) that every
number on the dashboard's pages comes from.

# Reports

	GET /api/v1/sites/{site}/overview     {site, from, to, current: Totals, previous: Totals}
	GET /api/v1/sites/{site}/timeseries   {interval: "hour"|"day", points: [{start, ...Totals}]}
	GET /api/v1/sites/{site}/pages        {dimension: "page", rows: [Row]}
	GET /api/v1/sites/{site}/sources      {dimension: "source", rows: [Row]}
	GET /api/v1/sites/{site}/channels     {dimension: "channel", rows: [Row]}
	GET /api/v1/sites/{site}/campaigns    {dimension: "campaign", rows: [Row]}
	GET /api/v1/sites/{site}/devices      {dimension: "device"|"browser"|"os", rows: [Row]}  (?by=)
	GET /api/v1/sites/{site}/goals        {goals: [{name, visitors, completions, revenue, conversion_rate}]}
	GET /api/v1/sites/{site}/realtime     {since, totals: Totals, pages: [Row], sources: [Row]}  (last 30 minutes)

	Totals: {visitors, sessions, pageviews, bounce_rate (0..1), visit_duration_sec, conversions, revenue}
	Row:    {value, visitors, pageviews, conversions, revenue}

Every report takes from and to (RFC 3339, or YYYY-MM-DD in tz, where a
date as to means the end of that day; default: the 30 days up to now, at
most two years), tz (an IANA zone for dates and day buckets, default UTC),
the filters page, source, channel, campaign and device (exact values), and
format=csv. timeseries takes interval=hour|day (default hour up to two
days, else day; hour at most 31 days); breakdowns take limit (1..1000,
default 50). Overview's previous is the period of the same length just
before from. Bad parameters answer 400 with {"error": "..."} naming the
parameter; an unknown site or report answers 404.

CSV cells that a spreadsheet would evaluate as a formula (starting with =,
+, @, or - not followed by a digit) are prefixed with ', because page
paths and campaign names come from visitors.
*/
package dashboard
