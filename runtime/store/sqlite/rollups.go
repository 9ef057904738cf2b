package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

var (
	_ store.Rollups = (*Store)(nil)
	_ store.Roller  = (*Store)(nil)
)

// querier is the database, a connection or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryRows runs query on db and hands each row's Scan to row.
func queryRows(ctx context.Context, db querier, query string, args []any, row func(scan func(...any) error) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return classify(err)
		}
	}
	return classify(rows.Err())
}

// snapshot runs read in one read transaction on a reader: in WAL mode
// every statement of it sees the database as of its first read.
func (s *Store) snapshot(ctx context.Context, read func(store.QueryFunc) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to undo
	return read(func(ctx context.Context, query string, args []any, row func(scan func(...any) error) error) error {
		return queryRows(ctx, tx, query, args, row)
	})
}

// RollUp rolls up the site's closed hours before until and re-rolls the
// hours late events made stale; see store.Roller. Each step is one write
// transaction of at most store.RollUpStep of new hours, so collectors
// wait on the writer for one step at most.
func (s *Store) RollUp(ctx context.Context, site string, until time.Time) error {
	for {
		var done bool
		err := s.rollupTx(ctx, func(tx store.RollupTx) error {
			var err error
			done, err = dialect.RollUpOnce(ctx, tx, site, until)
			return err
		})
		if err != nil {
			return fmt.Errorf("while rolling up site %q: %w", site, err)
		}
		if done {
			return nil
		}
	}
}

// RefreshRollups rebuilds the site's rolled hours overlapping [from, to)
// from the events that remain; see store.Rollups.
func (s *Store) RefreshRollups(ctx context.Context, site string, from, to time.Time) error {
	err := s.rollupTx(ctx, func(tx store.RollupTx) error {
		return dialect.RefreshOnce(ctx, tx, site, from, to)
	})
	if err != nil {
		return fmt.Errorf("while refreshing the rollups of site %q: %w", site, err)
	}
	return nil
}

// rollupTx runs fn in a write transaction: SQLite's one writer keeps
// other refreshes and inserts out until it commits.
func (s *Store) rollupTx(ctx context.Context, fn func(store.RollupTx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit: nothing to undo
	if err := fn(rollupTxOf(tx)); err != nil {
		return err
	}
	return classify(tx.Commit())
}

// rollupTxOf runs a refresh's statements in tx.
func rollupTxOf(tx *sql.Tx) store.RollupTx {
	return store.RollupTx{
		Exec: func(ctx context.Context, query string, args []any) error {
			_, err := tx.ExecContext(ctx, query, args...)
			return classify(err)
		},
		Query: func(ctx context.Context, query string, args []any, row func(scan func(...any) error) error) error {
			return queryRows(ctx, tx, query, args, row)
		},
	}
}
