package demodata

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// TestGenerate stores a month of demo traffic in a real SQLite store: every
// day has visits, every event is marked demo, campaigns carry click ids,
// and some visits end in a sale. The same seed gives the same traffic.
func TestGenerate(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	n, err := Generate(ctx, st, Options{Site: "demo", Host: "localhost:8080", End: end, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if n < 30*100 {
		t.Fatalf("%d events for a month, want thousands", n)
	}
	evs, err := st.Recent(ctx, "demo", 100000)
	if err != nil {
		t.Fatal(err)
	}
	days := map[string]bool{}
	var sales, clicks int
	for _, e := range evs {
		if string(e.Properties) != `{"demo":true}` {
			t.Fatalf("event %s is not marked demo: %s", e.EventID, e.Properties)
		}
		days[e.ReceivedAt.Format(time.DateOnly)] = true
		if e.Type == event.TypeConversion && e.Value != nil && e.OrderID != "" {
			sales++
		}
		if len(e.ClickIDs) > 0 {
			clicks++
		}
		if e.ReceivedAt.After(end) || e.ReceivedAt.Before(end.Add(-31*24*time.Hour)) {
			t.Fatalf("event at %s outside the month up to %s", e.ReceivedAt, end)
		}
	}
	if len(days) < 30 || sales == 0 || clicks == 0 {
		t.Fatalf("%d days, %d sales, %d events with click ids: want every day, some sales and clicks", len(days), sales, clicks)
	}

	again, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.Migrate(ctx) //nolint:errcheck // checked by the insert below
	if m, err := Generate(ctx, again, Options{Site: "demo", Host: "localhost:8080", End: end, Seed: 7}); err != nil || m != n {
		t.Fatalf("the same seed stored %d events (%v), the first run %d", m, err, n)
	}
}
