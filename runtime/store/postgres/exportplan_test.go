package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// TestExportUsesIndex checks that an export page, the first, one after a
// position and one in a range, reads the (site, received_at, seq) index of
// each day in order and stops at the page size, instead of sorting the
// site's events: a page costs the same at any size of history. (A
// visitor's export may well sort: a person has few events.)
func TestExportUsesIndex(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn)
	defer s.Close()
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	// Three days of 8,000 events, a quarter of another site: a page is
	// a small part of the history, as it is in production.
	batch := make([]event.Event, 2000)
	for b := range 12 {
		for i := range batch {
			n := b*len(batch) + i
			batch[i] = storetest.Realistic("shop", n, day.Add(time.Duration(n)*10*time.Second))
			if i%4 == 0 {
				batch[i].Site = "other"
			}
		}
		if _, err := s.Insert(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, "ANALYZE events"); err != nil {
		t.Fatal(err)
	}
	after := &store.ExportPosition{ReceivedAt: day.Add(30 * time.Hour), Seq: 1500}
	for name, tc := range map[string]struct {
		filter store.ExportFilter
		after  *store.ExportPosition
	}{
		"first page":       {store.ExportFilter{}, nil},
		"after a position": {store.ExportFilter{}, after},
		"in a range":       {store.ExportFilter{From: day.Add(time.Hour), To: day.Add(50 * time.Hour)}, after},
	} {
		t.Run(name, func(t *testing.T) {
			sql, args := postgres.ExportPageSQL("shop", tc.filter, tc.after, store.ExportPageSize)
			plan := explain(t, conn, sql, args...)
			if !strings.Contains(plan, "Limit") || !strings.Contains(plan, "site_received_at") || strings.Contains(plan, "Sort  (") {
				t.Errorf("the export page is not read in index order:\n%s", plan)
			}
		})
	}
}
