package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/internal/pgtest"
)

// TestStopImmediateAndStartAgain stops a server as an outage does and
// starts it again: the same DSN works afterwards, and a row committed
// before the stop survives crash recovery.
func TestStopImmediateAndStartAgain(t *testing.T) {
	ctx := context.Background()
	s := pgtest.New() // its own server: stopping the shared one would stop other tests'
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	dsn := s.NewDatabase(t)

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}

	if err := s.StopImmediate(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Error("a connection opened before the stop still answers")
	}
	conn.Close(ctx)
	if c, err := pgx.Connect(ctx, dsn); err == nil {
		c.Close(ctx)
		t.Fatal("a new connection succeeded while the server is stopped")
	}
	if err := s.StopImmediate(); err == nil || !strings.Contains(err.Error(), "already stopped") {
		t.Errorf("second stop: %v, want an error saying it is already stopped", err)
	}

	if err := s.StartAgain(); err != nil {
		t.Fatalf("start again: %v", err)
	}
	if err := s.StartAgain(); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second start: %v, want an error saying it is already running", err)
	}
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("the DSN from before the stop: %v", err)
	}
	defer conn.Close(ctx)
	var x int
	if err := conn.QueryRow(ctx, "SELECT x FROM t").Scan(&x); err != nil || x != 42 {
		t.Errorf("the committed row after crash recovery: %d, %v", x, err)
	}
}

func TestStopImmediateBeforeStart(t *testing.T) {
	s := pgtest.New()
	defer s.Close()
	for name, f := range map[string]func() error{"stop": s.StopImmediate, "start again": s.StartAgain} {
		if err := f(); err == nil || !strings.Contains(err.Error(), "never started") {
			t.Errorf("%s on a server that never started: %v, want an error saying so", name, err)
		}
	}
}
