package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

var (
	_ store.Analytics     = (*Store)(nil)
	_ store.Journeys      = (*Store)(nil)
	_ store.JourneyLookup = (*Store)(nil)
)

// schemePrefix matches store.URLPath's and store.URLHost's "scheme://".
const schemePrefix = `[A-Za-z][A-Za-z0-9+.-]*://`

// dialect is the PostgreSQL side of the analytics SQL. Pages and hosts
// are cut with regular expressions equivalent to store.URLPath and
// store.URLHost (the conformance suite checks both stores alike).
var dialect = &store.AnalyticsDialect{
	InSetAsArray: true,
	Param:        func(n int) string { return "$" + strconv.Itoa(n) },
	Time:         func(t time.Time) any { return t },
	Page: `CASE WHEN e.url IS NULL THEN NULL ELSE coalesce(nullif(substring(e.url from '^(?:` +
		schemePrefix + `[^/?#]*)?([^?#]*)'), ''), '/') END`,
	RefHost: `nullif(substring(e.referrer from '^` + schemePrefix + `([^/?#]*)'), '')`,
	Seconds: func(later, earlier string) string {
		return "extract(epoch FROM " + later + " - " + earlier + ")::float8"
	},
	// width_bucket finds each event's bucket by binary search in the
	// sorted starts: no join, one pass over the range.
	Buckets: func(p *store.Params, starts []time.Time, _ time.Time, table, at string) (from, group, cond string) {
		return table, "width_bucket(" + at + ", " + p.Add(starts) + "::timestamptz[]) - 1", ""
	},
	// The zone argument keeps the hour the UTC one whatever the session's
	// TimeZone.
	Hour:   `date_trunc('hour', e.received_at, 'UTC')`,
	Micros: func(t string) string { return "(extract(epoch FROM " + t + ") * 1000000)::bigint" },
	// Every transaction below the xmin of the snapshot that rolled up had
	// ended by then, so its events were all rolled up; any event of a
	// later transaction may not have been (feed.go relies on the same).
	Late: func(p *store.Params, w int64) string { return "e.txid >= " + p.Add(w) + "::bigint::text::xid8" },
	// The planner picks (site, txid, seq) itself: it probes the index for
	// txids past its statistics.
	LateEvents: "events e",
	Watermark:  `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`,
	// The database's collation may order by language; reports order
	// values by bytes, as SQLite does.
	Collate: ` COLLATE "C"`,
}

func (s *Store) analytics() store.SQLAnalytics {
	return store.SQLAnalytics{Dialect: dialect, Query: s.queryRows, Snapshot: s.snapshot}
}

// queryRows runs sql and hands each row's Scan to row.
func (s *Store) queryRows(ctx context.Context, sql string, args []any, row func(scan func(...any) error) error) error {
	return queryRows(ctx, s.pool, sql, args, row)
}

// Totals returns a site's numbers over a range; see store.Analytics.
func (s *Store) Totals(ctx context.Context, q store.Query) (store.Totals, error) {
	return s.analytics().Totals(ctx, q)
}

// Series returns a site's numbers per hour or day; see store.Analytics.
func (s *Store) Series(ctx context.Context, q store.Query, step time.Duration) ([]store.Point, error) {
	return s.analytics().Series(ctx, q, step)
}

// Breakdown returns the top values of a dimension; see store.Analytics.
func (s *Store) Breakdown(ctx context.Context, q store.Query, dim string, limit int) ([]store.Row, error) {
	return s.analytics().Breakdown(ctx, q, dim, limit)
}

// Goals returns each goal's numbers; see store.Analytics.
func (s *Store) Goals(ctx context.Context, q store.Query, goals []store.Goal) ([]store.GoalRow, error) {
	return s.analytics().Goals(ctx, q, goals)
}

// Touches returns the touchpoints attribution reads; see store.Journeys.
func (s *Store) Touches(ctx context.Context, q store.Query) (*store.TouchSet, error) {
	return s.analytics().Touches(ctx, q)
}

// Journey returns a person's events; see store.JourneyLookup.
func (s *Store) Journey(ctx context.Context, site string, key store.JourneyKey, limit int) ([]event.Event, error) {
	return s.analytics().Journey(ctx, site, key, limit, func(row store.Scanner) (event.Event, error) { return scanEvent(row) })
}
