package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// MigrateLockKey lets the tests check, from another session, that Migrate
// gave the lock back.
const MigrateLockKey = migrateLockKey

// RecentEventsSQL is the statement Recent sends, for the plan test.
const RecentEventsSQL = recentEventsSQL

// The statements Feed, Recorded and Due send, for the plan test.
const (
	FeedSQL     = feedSQL
	FeedPlanSQL = feedPlanSQL
	RecordedSQL = recordedSQL
	DueSQL      = dueSQL
)

// The statements ForgetRawIPs and OrderConversion send, for the plan test.
const (
	ForgetRawIPsSQL    = forgetRawIPsSQL
	OrderConversionSQL = orderConversionSQL
)

// The statements Totals and Series send, for the plan test.
var (
	TotalsSQL = dialect.TotalsSQL
	SeriesSQL = dialect.SeriesSQL
)

// ExportPageSQL builds the statement of an export page, for the plan test.
var ExportPageSQL = dialect.ExportPageSQL

// SiteRows counts a site's rows in every table and partition with a site
// column, found through information_schema (PurgeSite reads pg_catalog),
// for the conformance suite's purge case (storetest.SiteRowCounter). A
// partitioned table's count includes its partitions'.
func (s *Store) SiteRows(ctx context.Context, site string) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT table_name FROM information_schema.columns
WHERE table_schema = current_schema() AND column_name = 'site'`)
	if err != nil {
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" WHERE site = $1", site).Scan(&n); err != nil {
			return nil, err
		}
		out[table] = n
	}
	return out, nil
}
