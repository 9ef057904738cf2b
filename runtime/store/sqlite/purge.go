package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/trackstack/trackstack/runtime/store"
)

var _ store.SitePurger = (*Store)(nil)

// siteTablesSQL lists the tables that have a site column, with whether each
// is a WITHOUT ROWID table (wr), whose rows are picked by primary key.
const siteTablesSQL = `SELECT t.name, t.wr FROM pragma_table_list t
WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND EXISTS (SELECT 1 FROM pragma_table_info(t.name) c WHERE c.name = 'site')
ORDER BY t.name`

// primaryKeySQL lists a table's primary key columns in key order.
const primaryKeySQL = `SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`

// PurgeSite deletes every row of site from every table with a site column;
// see store.SitePurger. Each batch of store.PurgeBatchSize rows is its own
// transaction on the writer connection, so collectors of other sites
// writing to the same file wait for one batch at most.
func (s *Store) PurgeSite(ctx context.Context, site string, progress func(table string, removed int64)) (map[string]int64, error) {
	if site == "" {
		return nil, fmt.Errorf("while purging: %w", store.ErrNoSite)
	}
	tables, err := s.siteTables(ctx)
	if err != nil {
		return nil, err
	}
	removed := make(map[string]int64, len(tables))
	for _, t := range tables {
		removed[t.name] = 0
		q, err := s.batchDeleteSQL(ctx, t)
		if err != nil {
			return removed, err
		}
		for {
			res, err := s.writer.ExecContext(ctx, q, site, site, store.PurgeBatchSize)
			if err != nil {
				return removed, fmt.Errorf("while purging %s: %w", t.name, classify(err))
			}
			n, err := res.RowsAffected()
			if err != nil {
				return removed, fmt.Errorf("while purging %s: %w", t.name, classify(err))
			}
			if n == 0 {
				break
			}
			removed[t.name] += n
			if progress != nil {
				progress(t.name, removed[t.name])
			}
		}
	}
	return removed, nil
}

type siteTable struct {
	name         string
	withoutRowid bool
}

func (s *Store) siteTables(ctx context.Context) ([]siteTable, error) {
	rows, err := s.reader.QueryContext(ctx, siteTablesSQL)
	if err != nil {
		return nil, fmt.Errorf("while listing the tables to purge: %w", classify(err))
	}
	defer rows.Close()
	var tables []siteTable
	for rows.Next() {
		var t siteTable
		if err := rows.Scan(&t.name, &t.withoutRowid); err != nil {
			return nil, fmt.Errorf("while listing the tables to purge: %w", classify(err))
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while listing the tables to purge: %w", classify(err))
	}
	return tables, nil
}

// batchDeleteSQL is the statement that deletes one batch of a site's rows
// from t (parameters: site, site, batch size). Rows are picked by rowid, or
// by primary key in a WITHOUT ROWID table, which has no rowid.
func (s *Store) batchDeleteSQL(ctx context.Context, t siteTable) (string, error) {
	key, cols := "rowid", "rowid"
	if t.withoutRowid {
		pk, err := s.primaryKey(ctx, t.name)
		if err != nil {
			return "", err
		}
		cols = strings.Join(pk, ", ")
		key = "(" + cols + ")"
	}
	ident := quoteIdent(t.name)
	return "DELETE FROM " + ident + " WHERE site = ? AND " + key + " IN (SELECT " + cols + " FROM " + ident +
		" WHERE site = ? LIMIT ?)", nil
}

func (s *Store) primaryKey(ctx context.Context, table string) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx, primaryKeySQL, table)
	if err != nil {
		return nil, fmt.Errorf("while reading the primary key of %s: %w", table, classify(err))
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("while reading the primary key of %s: %w", table, classify(err))
		}
		cols = append(cols, quoteIdent(c))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading the primary key of %s: %w", table, classify(err))
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("while purging %s: a WITHOUT ROWID table without a primary key", table)
	}
	return cols, nil
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
