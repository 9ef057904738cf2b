// Package sqlite is the event store of the embedded (standalone) mode: one
// SQLite file through the pure-Go driver modernc.org/sqlite, in WAL mode,
// with one writer connection and a few readers.
//
// Schema (migrations/): events, with seq (INTEGER PRIMARY KEY
// AUTOINCREMENT, the rowid) as insertion order and the forwarders' feed
// order, a UNIQUE (site, event_id) for dedup, and indexes on (site,
// received_at), (site, seq) and (site, order_id) where set;
// forward_cursors and deliveries as in PostgreSQL, times as INTEGER
// microseconds since the Unix epoch.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the SQLite event store. It is safe for concurrent use.
type Store struct {
	// SQLite takes one writer at a time; a single writer connection queues
	// writers in Go instead of having them spin on SQLITE_BUSY.
	writer *sql.DB
	reader *sql.DB
}

var _ store.Store = (*Store)(nil)

// fileMode is the mode of the database file: it holds visitor ids and
// hashed emails, for its owner only. SQLite creates the -wal and -shm files
// with the database file's mode (setting it despite the umask), so they
// follow it.
const fileMode fs.FileMode = 0o600

// Open opens (creating it if needed) the database file at path. The file,
// and its -wal and -shm files where they exist, are given mode 0600
// whatever the umask, also when an earlier start left them readable by
// others.
//
// WAL lets readers run beside the writer; synchronous=NORMAL syncs at WAL
// checkpoints rather than at every commit, so a commit survives a crash of
// the process but the last ones may be lost on power failure.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("while opening SQLite: empty path")
	}
	if err := restrictFiles(path); err != nil {
		return nil, err
	}
	pragmas := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"} {
		pragmas.Add("_pragma", p)
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas.Encode()
	// _txlock=immediate: transactions take the write lock at BEGIN, so two
	// writers never deadlock upgrading read locks.
	writer, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("while opening SQLite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	reader, err := sql.Open("sqlite", base+"&_pragma=query_only(ON)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("while opening SQLite %s: %w", path, err)
	}
	n := max(2, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	s := &Store{writer: writer, reader: reader}
	// Open the writer now: it creates the file and switches it to WAL,
	// which a read-only connection cannot.
	if err := openWriter(ctx, s.writer); err != nil {
		s.Close()
		return nil, fmt.Errorf("while opening SQLite %s: %w", path, err)
	}
	return s, nil
}

// openWriter opens the writer connection, trying again while the file is
// busy: a connection opened while another one switches a new file to WAL
// can get SQLITE_BUSY at once, without waiting out the busy timeout, so
// processes starting together on a new file failed now and then.
func openWriter(ctx context.Context, writer *sql.DB) error {
	var err error
	for wait := time.Millisecond; wait < time.Second; wait *= 2 {
		if err = writer.PingContext(ctx); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
	return err
}

// restrictFiles creates the database file at path with fileMode if it is
// missing, and gives it and its -wal and -shm files fileMode. The umask can
// only take bits away from a new file's mode, so it is set explicitly.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("while opening SQLite %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("while opening SQLite %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("while checking the mode of %s: %w", p, err)
		}
		if fi.Mode().Perm() == fileMode {
			continue
		}
		if err := os.Chmod(p, fileMode); err != nil {
			return fmt.Errorf("while restricting %s to its owner (mode %#o): %w", p, fileMode, err)
		}
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("while pinging SQLite: %w", err)
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// WriteConcurrency is how many batches are worth writing at once: SQLite
// has one writer.
func (s *Store) WriteConcurrency() int { return 1 }

// Migrate applies the embedded migrations that are not applied yet, all in
// one BEGIN IMMEDIATE transaction: it holds SQLite's write lock, so
// concurrent starts (even in other processes) apply each migration once.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("while starting the migration transaction: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`); err != nil {
		return fmt.Errorf("while creating schema_migrations: %w", err)
	}
	for _, m := range ms {
		var applied bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)", m.Version).Scan(&applied); err != nil {
			return fmt.Errorf("while reading schema_migrations: %w", err)
		}
		if applied {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("while applying migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.Version, m.Name); err != nil {
			return fmt.Errorf("while recording migration %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("while committing migrations: %w", err)
	}
	return nil
}
