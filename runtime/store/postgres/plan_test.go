package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// TestRecentUsesIndex checks that listing the newest events reads them in
// index order rather than sorting a whole partition. It explains the
// statement Recent sends, with the arguments Recent binds.
func TestRecentUsesIndex(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn)
	defer s.Close()
	now := time.Now()
	batch := make([]event.Event, 500)
	for i := range batch {
		batch[i] = storetest.Realistic("shop", i, now.Add(time.Duration(i)*time.Millisecond))
	}
	if _, err := s.Insert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, "ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "EXPLAIN "+postgres.RecentEventsSQL, "shop", 50)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "Index Scan Backward") || strings.Contains(text, "Sort  (") {
		t.Errorf("Recent's plan does not read the index newest first:\n%s", text)
	}
}
