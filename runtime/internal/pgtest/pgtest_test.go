package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/internal/pgtest"
)

var pg = pgtest.New()

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Close(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := pg.NewDatabase(t), pg.NewDatabase(t)
	if a == b {
		t.Fatalf("two databases share the DSN %s", a)
	}
	for _, dsn := range []string{a, b} {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect %s: %v", dsn, err)
		}
		var fsync string
		if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
			t.Fatal(err)
		}
		if fsync != "on" {
			t.Errorf("fsync = %q, want on: benchmarks must measure durable commits", fsync)
		}
		// Databases are isolated: a table made in one is absent in the other.
		if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Errorf("create table in %s: %v", dsn, err)
		}
		conn.Close(ctx)
	}
}

func TestStart(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Start(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
}

func TestBinDir(t *testing.T) {
	if testing.Short() {
		t.Skip(pgtest.SkipReason)
	}
	dir, err := pgtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/pg_ctl"); err != nil {
		t.Errorf("BinDir %s has no pg_ctl: %v", dir, err)
	}
}

func TestCPUTime(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	before, err := pg.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	// Burn a second or so of server CPU.
	if _, err := conn.Exec(ctx, "SELECT count(md5(i::text)) FROM generate_series(1, 2000000) i"); err != nil {
		t.Fatal(err)
	}
	after, err := pg.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("server CPU time did not grow across a CPU-heavy query: %v then %v", before, after)
	}
}
