package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trackstack/trackstack/runtime/store"
)

var _ store.SitePurger = (*Store)(nil)

// siteTablesSQL lists the tables of the store's schema that have a site
// column: plain tables and partitioned parents, never their partitions
// (they are reached through the parent, and reported under its name).
const siteTablesSQL = `SELECT c.relname, c.relkind = 'p'
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid
WHERE n.nspname = current_schema()
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND a.attname = 'site' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname`

// leafPartitionsSQL lists the partitions of a partitioned table that hold
// rows, at any depth.
const leafPartitionsSQL = `SELECT c.relname
FROM pg_partition_tree($1::regclass) t
JOIN pg_class c ON c.oid = t.relid
WHERE t.isleaf
ORDER BY c.relname`

// purgeLockTimeout bounds the wait for the lock that truncating a
// partition takes: behind a long query, deleting in batches is better than
// making every reader of that day queue behind the purge.
const purgeLockTimeout = "2s"

type siteTable struct {
	name        string
	partitioned bool
}

// PurgeSite deletes every row of site from every table with a site column;
// see store.SitePurger. A partition of events that holds only the site's
// rows is truncated in one step; everything else is deleted in batches of
// store.PurgeBatchSize rows, each its own transaction.
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
		count := func(n int64) {
			removed[t.name] += n
			if progress != nil {
				progress(t.name, removed[t.name])
			}
		}
		if err := s.purgeTable(ctx, t, site, count); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// purgeTable removes the site's rows from one table, partition by
// partition for a partitioned one.
func (s *Store) purgeTable(ctx context.Context, t siteTable, site string, count func(int64)) error {
	if !t.partitioned {
		return s.deleteBatches(ctx, t.name, site, count)
	}
	leaves, err := s.leafPartitions(ctx, t.name)
	if err != nil {
		return err
	}
	for _, leaf := range leaves {
		n, done, err := s.truncateIfOnlySite(ctx, leaf, site)
		if err != nil {
			return err
		}
		if done {
			if n > 0 {
				count(n)
			}
			continue
		}
		if err := s.deleteBatches(ctx, leaf, site, count); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) siteTables(ctx context.Context) ([]siteTable, error) {
	rows, err := s.pool.Query(ctx, siteTablesSQL)
	if err != nil {
		return nil, fmt.Errorf("while listing the tables to purge: %w", classify(err))
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (siteTable, error) {
		var t siteTable
		err := r.Scan(&t.name, &t.partitioned)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("while listing the tables to purge: %w", classify(err))
	}
	return tables, nil
}

func (s *Store) leafPartitions(ctx context.Context, table string) ([]string, error) {
	rows, err := s.pool.Query(ctx, leafPartitionsSQL, pgx.Identifier{table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("while listing the partitions of %s: %w", table, classify(err))
	}
	leaves, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("while listing the partitions of %s: %w", table, classify(err))
	}
	return leaves, nil
}

// truncateIfOnlySite empties a partition in one step when every row in it
// is the site's, and returns how many rows that removed. done is true when
// nothing is left to delete there (also when it was empty); false means
// other sites have rows in it, or its lock was not granted in time, and
// the caller deletes in batches instead. The SHARE lock holds writers off
// between the check and the TRUNCATE, so no other site's row can arrive in
// between; min and max of site come from the (site, ...) index.
func (s *Store) truncateIfOnlySite(ctx context.Context, partition, site string) (n int64, done bool, err error) {
	ident := pgx.Identifier{partition}.Sanitize()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '"+purgeLockTimeout+"'"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE "+ident+" IN SHARE MODE"); err != nil {
			return err
		}
		var lo, hi *string
		if err := tx.QueryRow(ctx, "SELECT min(site), max(site) FROM "+ident).Scan(&lo, &hi); err != nil {
			return err
		}
		if lo == nil {
			done = true
			return nil
		}
		if *lo != site || *hi != site {
			return nil
		}
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+ident).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "TRUNCATE "+ident); err != nil {
			return err
		}
		done = true
		return nil
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("while truncating partition %s: %w", partition, classify(err))
	}
	return n, done, nil
}

// deleteBatches deletes the site's rows of one table (or partition) in
// batches, each a statement of its own, until none is left. The rows are
// picked by ctid, which a Tid Scan finds directly.
func (s *Store) deleteBatches(ctx context.Context, table, site string, count func(int64)) error {
	ident := pgx.Identifier{table}.Sanitize()
	q := "DELETE FROM " + ident + " WHERE site = $1 AND ctid = ANY(ARRAY(SELECT ctid FROM " + ident +
		" WHERE site = $1 LIMIT $2))"
	for {
		tag, err := s.pool.Exec(ctx, q, site, store.PurgeBatchSize)
		if err != nil {
			return fmt.Errorf("while purging %s: %w", table, classify(err))
		}
		// Until a batch finds nothing: a short batch may only mean that a
		// row changed under it, and a purge must not leave one behind.
		n := tag.RowsAffected()
		if n == 0 {
			return nil
		}
		count(n)
	}
}
