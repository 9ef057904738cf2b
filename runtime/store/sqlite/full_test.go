package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// TestFullDiskIsUnavailable fills the database to its page limit (SQLite's
// own SQLITE_FULL, as a full disk gives) and checks that the error is one a
// retry can fix, and that writes work again once there is room.
func TestFullDiskIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := s.writer.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The one writer connection keeps this setting: the file cannot grow.
	if _, err := s.writer.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var full error
	for i := 0; i < 1000 && full == nil; i++ {
		batch := make([]event.Event, 50)
		for j := range batch {
			batch[j] = storetest.Full("shop", fmt.Sprintf("e-%d-%d", i, j), now)
		}
		_, full = s.Insert(ctx, batch)
	}
	if full == nil {
		t.Fatal("the database never filled up")
	}
	if !errors.Is(full, store.ErrUnavailable) {
		t.Fatalf("a full database gave %v; want an error wrapping store.ErrUnavailable", full)
	}
	if _, err := s.writer.ExecContext(ctx, "PRAGMA max_page_count = 1000000"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Insert(ctx, []event.Event{storetest.Full("shop", "after", now)}); err != nil || n != 1 {
		t.Fatalf("once there is room again: %d, %v", n, err)
	}
}
