// Package postgres is the event store for clusters: PostgreSQL through pgx,
// events partitioned by day, written with COPY in one transaction per batch.
//
// Schema (migrations/):
//
//   - events: one row per event, every Event field a column (campaign
//     fields, channel, consent purposes and device as text columns for the
//     dashboard's GROUP BYs; click ids, hashed matching data and properties
//     as jsonb; empty strings stored as NULL). RANGE-partitioned by day (UTC)
//     of received_at into events_pYYYYMMDD, plus events_default as a safety
//     net. seq (a sequence) orders events received in the same microsecond;
//     txid is the inserting transaction's id (the forwarders' feed order);
//     ip_sealed the sealed raw IP until every destination matching on it
//     has the event. Indexes: (site, received_at, seq) for listings and
//     time ranges, (site, txid, seq) for the feed, and (site, order_id)
//     where order_id is set, for the sale a refund adjusts.
//   - event_ids: (site, event_id) primary key, plus received_at and the
//     source of the stored event. Dedup across days lives here, because a
//     unique constraint on a partitioned table must include the partition
//     key. A server event claiming a browser event's key supersedes it
//     (store.Supersede): the key's source becomes server, and the browser
//     row is replaced by the merged one in the same day.
//   - forward_cursors: each destination's place in its site's events, as
//     (txid, seq), and the received_at it started from.
//   - deliveries: one record per event and destination (status, attempts,
//     the next attempt), with a partial index of the pending ones.
//   - rollup_sessions and rollup_state: the hourly rollups of Totals and
//     Series (store/rollups.go): per site, UTC hour, session, visitor and
//     filterable dimension, the session's counts there; and per site the
//     hour rolled up to and the txid watermark the rolled hours include.
//   - ensure_event_partition(day): creates a day's partition when missing,
//     moving that day's rows out of the default partition. Migrate creates
//     yesterday to the day after tomorrow; Insert creates a day (and the
//     next) the first time a store instance sees it.
//
// Every table has site and every key includes it, so Citus can distribute
// the tables by site unchanged.
//
// Retention drops whole partitions (and deletes event_ids rows by
// received_at), then refreshes the rollups of those hours. Forwarders read the feed in (txid, seq) order below the
// snapshot's xmin (feed.go), which no commit order can overtake.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockKey is the pg_advisory_lock key that serializes Migrate across
// processes ("trackstk" in ASCII).
const migrateLockKey int64 = 0x747261636b73746b

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time

	// days holds the UTC days (as Unix days) whose partition is known to
	// exist, so the insert path asks the database only on a new day.
	mu   sync.Mutex
	days map[int64]struct{}

	scratch sync.Pool // *scratch
}

var _ store.Store = (*Store)(nil)

// Open returns a store for dsn (a libpq URL or key=value string; pgxpool
// settings such as pool_max_conns are honoured). It does not connect: a
// database that is down makes Ping and writes fail, not Open.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("while parsing the PostgreSQL DSN: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("while creating the PostgreSQL pool: %w", err)
	}
	return &Store{pool: pool, now: time.Now, days: map[int64]struct{}{}}, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("while pinging PostgreSQL: %w", classify(err))
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// WriteConcurrency is how many batches are worth writing at once: one per
// pooled connection.
func (s *Store) WriteConcurrency() int { return int(s.pool.Config().MaxConns) }

// Migrate applies the embedded migrations that are not applied yet, each in
// its own transaction, under a session advisory lock so that concurrent
// starts apply each one once; then it creates the partitions of yesterday to
// the day after tomorrow.
func (s *Store) Migrate(ctx context.Context) (err error) {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("while connecting to migrate: %w", classify(err))
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("while taking the migration lock: %w", classify(err))
	}
	defer func() {
		// Unlock even when ctx is done; a connection still holding the lock
		// must not go back to the pool.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", migrateLockKey); uerr != nil {
			_ = conn.Conn().Close(uctx)
			err = errors.Join(err, fmt.Errorf("while releasing the migration lock: %w", uerr))
		}
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    bigint      PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("while creating schema_migrations: %w", classify(err))
	}
	applied := map[int64]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("while reading schema_migrations: %w", classify(err))
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("while reading schema_migrations: %w", classify(err))
	}
	for _, v := range versions {
		applied[v] = true
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("while applying migration %s: %w", m.Name, classify(err))
		}
	}

	today := unixDay(s.now())
	for d := today - 1; d <= today+2; d++ {
		if err := s.ensurePartition(ctx, conn, d); err != nil {
			return err
		}
	}
	return nil
}

// execer is what ensurePartition needs: a pool or a single connection.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// ensurePartitions makes sure the partitions of the given Unix days exist,
// asking the database only about days not seen before.
func (s *Store) ensurePartitions(ctx context.Context, days []int64) error {
	for _, d := range days {
		s.mu.Lock()
		_, ok := s.days[d]
		s.mu.Unlock()
		if ok {
			continue
		}
		if err := s.ensurePartition(ctx, s.pool, d); err != nil {
			return err
		}
		// Create the next day too, so the first batch after midnight does
		// not wait on DDL.
		if err := s.ensurePartition(ctx, s.pool, d+1); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) ensurePartition(ctx context.Context, db execer, day int64) error {
	t := time.Unix(day*86400, 0).UTC()
	if _, err := db.Exec(ctx, "SELECT ensure_event_partition($1::date)", t); err != nil {
		return fmt.Errorf("while creating the events partition of %s: %w", t.Format(time.DateOnly), classify(err))
	}
	s.mu.Lock()
	s.days[day] = struct{}{}
	s.mu.Unlock()
	return nil
}

func unixDay(t time.Time) int64 {
	u := t.Unix()
	if u < 0 {
		return (u - 86399) / 86400
	}
	return u / 86400
}

// classify wraps errors that mean the database cannot be reached or cannot
// take work now with store.ErrUnavailable, so the collector answers 503.
func classify(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08", // connection exception
			len(pgErr.Code) == 5 && pgErr.Code[:2] == "53",                      // insufficient resources
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutdown, cannot connect now
			pgErr.Code == "40001", pgErr.Code == "40P01": // serialization failure, deadlock: retry
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
