package sqlite

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"modernc.org/sqlite"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

var (
	_ store.Analytics     = (*Store)(nil)
	_ store.Journeys      = (*Store)(nil)
	_ store.JourneyLookup = (*Store)(nil)
)

// SQLite has no regular expressions; the page and host of a URL come from
// the same Go functions the definitions live in, registered for every
// connection of the driver.
func init() {
	for name, fn := range map[string]func(string) string{
		"trackstack_url_path": store.URLPath,
		"trackstack_url_host": store.URLHost,
	} {
		err := sqlite.RegisterDeterministicScalarFunction(name, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, ok := args[0].(string)
			if !ok {
				return nil, nil // NULL, or not text: no page or host
			}
			if v := fn(s); v != "" {
				return v, nil
			}
			return nil, nil
		})
		if err != nil {
			panic(fmt.Sprintf("while registering SQL function %s: %v", name, err))
		}
	}
}

// dialect is the SQLite side of the analytics SQL; times are microseconds.
var dialect = &store.AnalyticsDialect{
	Param:   func(n int) string { return "?" + strconv.Itoa(n) },
	Time:    func(t time.Time) any { return micros(t) },
	Page:    "trackstack_url_path(e.url)",
	RefHost: "trackstack_url_host(e.referrer)",
	Seconds: func(later, earlier string) string { return "(" + later + " - " + earlier + ") / 1e6" },
	// The bucket list is one JSON argument of [lo, hi] pairs. The query
	// CROSS JOINs it before events, which SQLite takes as the join order:
	// each bucket then reads its range of the (site, received_at) index.
	Buckets: func(p *store.Params, starts []time.Time, end time.Time, table, at string) (from, group, cond string) {
		pairs := make([][2]int64, len(starts))
		for i, s := range starts {
			hi := end
			if i+1 < len(starts) {
				hi = starts[i+1]
			}
			pairs[i] = [2]int64{micros(s), micros(hi)}
		}
		text, _ := json.Marshal(pairs) // pairs of integers always encode
		from = "(SELECT key AS i, value ->> 0 AS lo, value ->> 1 AS hi FROM json_each(" + p.Add(string(text)) + ")) b CROSS JOIN " + table
		return from, "b.i", at + " >= b.lo AND " + at + " < b.hi"
	},
	Hour:   "(e.received_at - e.received_at % 3600000000)",
	Micros: func(t string) string { return t },
	// SQLite has one writer at a time and seq is AUTOINCREMENT: an event
	// stored after the watermark was read has a larger seq.
	Late: func(p *store.Params, w int64) string { return "e.seq > " + p.Add(w) },
	// Without statistics SQLite would read the range by received_at.
	LateEvents: "events e INDEXED BY events_site_seq_idx",
	Watermark:  "SELECT coalesce(max(seq), 0) FROM events",
}

func (s *Store) analytics() store.SQLAnalytics {
	return store.SQLAnalytics{Dialect: dialect, Query: s.queryRows, Snapshot: s.snapshot}
}

// queryRows runs sql on a reader and hands each row's Scan to row.
func (s *Store) queryRows(ctx context.Context, sql string, args []any, row func(scan func(...any) error) error) error {
	return queryRows(ctx, s.reader, sql, args, row)
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
