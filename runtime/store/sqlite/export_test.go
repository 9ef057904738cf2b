package sqlite

import (
	"context"
	"fmt"
)

// TotalsSQL is the statement Totals sends, for the plan test.
var TotalsSQL = dialect.TotalsSQL

// SiteRows counts a site's rows in every table with a site column, found
// through sqlite_master and PRAGMA table_info (PurgeSite reads
// pragma_table_list), for the conformance suite's purge case
// (storetest.SiteRowCounter).
func (s *Store) SiteRows(ctx context.Context, site string) (map[string]int64, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return nil, err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string]int64{}
	for _, table := range tables {
		has, err := s.hasSiteColumn(ctx, table)
		if err != nil {
			return nil, err
		}
		if !has {
			continue
		}
		var n int64
		if err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)+" WHERE site = ?", site).Scan(&n); err != nil {
			return nil, err
		}
		out[table] = n
	}
	return out, nil
}

func (s *Store) hasSiteColumn(ctx context.Context, table string) (bool, error) {
	rows, err := s.reader.QueryContext(ctx, "PRAGMA table_info("+quoteIdent(table)+")")
	if err != nil {
		return false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return false, err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			return false, err
		}
		for i, c := range cols {
			if c == "name" && fmt.Sprint(*vals[i].(*any)) == "site" {
				return true, nil
			}
		}
	}
	return false, rows.Err()
}
