package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trackstack/trackstack/runtime/store"
)

var (
	_ store.Rollups = (*Store)(nil)
	_ store.Roller  = (*Store)(nil)
)

// rollupLockClass is the first key of the advisory lock that serializes
// the rollup refreshes of one site across processes (the second is the
// hash of the site's name): "tsru" in ASCII.
const rollupLockClass = 0x74737275

// readWorkMem is the work_mem of a rollup read: its hash of a month's
// sessions would spill to disk at the default 4MB.
const readWorkMem = "64MB"

// snapshot runs read in a read-only REPEATABLE READ transaction, so every
// statement of a rollup read sees the same snapshot.
func (s *Store) snapshot(ctx context.Context, read func(store.QueryFunc) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, s.pool, opts, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('work_mem', $1, true)", readWorkMem); err != nil {
			return err
		}
		return read(func(ctx context.Context, sql string, args []any, row func(scan func(...any) error) error) error {
			return queryRows(ctx, tx, sql, args, row)
		})
	})
	return classify(err)
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryRows runs sql on db and hands each row's Scan to row.
func queryRows(ctx context.Context, db querier, sql string, args []any, row func(scan func(...any) error) error) error {
	rows, err := db.Query(ctx, sql, args...)
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

// RollUp rolls up the site's closed hours before until and re-rolls the
// hours late events made stale; see store.Roller. When another process is
// rolling the site up right now, it returns at once: that run does it.
func (s *Store) RollUp(ctx context.Context, site string, until time.Time) error {
	return s.withRollupLock(ctx, site, false, func(conn *pgxpool.Conn) error {
		for {
			var done bool
			err := s.rollupTx(ctx, conn, func(tx store.RollupTx) error {
				var err error
				done, err = dialect.RollUpOnce(ctx, tx, site, until)
				return err
			})
			if err != nil || done {
				return err
			}
		}
	})
}

// RefreshRollups rebuilds the site's rolled hours overlapping [from, to)
// from the events that remain; see store.Rollups. It waits for a rollup
// run of the site in progress.
func (s *Store) RefreshRollups(ctx context.Context, site string, from, to time.Time) error {
	return s.withRollupLock(ctx, site, true, func(conn *pgxpool.Conn) error {
		return s.rollupTx(ctx, conn, func(tx store.RollupTx) error {
			return dialect.RefreshOnce(ctx, tx, site, from, to)
		})
	})
}

// rollupTx runs fn in a REPEATABLE READ transaction on conn: its snapshot,
// taken after the site's lock, is the one the watermark describes.
func (s *Store) rollupTx(ctx context.Context, conn *pgxpool.Conn, fn func(store.RollupTx) error) error {
	err := pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		return fn(rollupTxOf(tx))
	})
	return classify(err)
}

// rollupTxOf runs a refresh's statements in tx.
func rollupTxOf(tx pgx.Tx) store.RollupTx {
	return store.RollupTx{
		Exec: func(ctx context.Context, sql string, args []any) error {
			_, err := tx.Exec(ctx, sql, args...)
			return classify(err)
		},
		Query: func(ctx context.Context, sql string, args []any, row func(scan func(...any) error) error) error {
			return queryRows(ctx, tx, sql, args, row)
		},
	}
}

// lockRollupsTx takes the site's rollup lock until tx ends, so that no
// roll-up runs between a deletion and the refresh of its hours.
func lockRollupsTx(ctx context.Context, tx pgx.Tx, site string) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", rollupLockClass, site)
	return err
}

// withRollupLock runs fn on a connection holding the site's rollup lock:
// waiting for it when wait is set, else returning nil at once when another
// session holds it.
func (s *Store) withRollupLock(ctx context.Context, site string, wait bool, fn func(*pgxpool.Conn) error) (err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("while connecting to refresh the rollups of site %q: %w", site, classify(err))
	}
	defer conn.Release()
	if wait {
		_, err = conn.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", rollupLockClass, site)
	} else {
		var got bool
		err = conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", rollupLockClass, site).Scan(&got)
		if err == nil && !got {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("while locking the rollups of site %q: %w", site, classify(err))
	}
	defer func() {
		// Unlock even when ctx is done; a connection still holding the
		// lock must not go back to the pool.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, "SELECT pg_advisory_unlock($1, hashtext($2))", rollupLockClass, site); uerr != nil {
			_ = conn.Conn().Close(uctx)
			err = fmt.Errorf("while unlocking the rollups of site %q: %w (after: %w)", site, uerr, err)
		}
	}()
	if err := fn(conn); err != nil {
		return fmt.Errorf("while refreshing the rollups of site %q: %w", site, err)
	}
	return nil
}
