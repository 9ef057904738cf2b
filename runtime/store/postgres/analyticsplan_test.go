package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// TestAnalyticsReadsOnlyItsDays checks that Totals and Series over one day
// read only that day's partition, through an index (not a scan of the
// partition) when most of the day is other sites' events, and through
// (site, received_at, seq) for part of a day. It explains the
// statements the store sends, with the arguments it binds.
func TestAnalyticsReadsOnlyItsDays(t *testing.T) {
	ctx := context.Background()
	dsn := pg.NewDatabase(t)
	s := openDSN(t, dsn)
	defer s.Close()
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	// Three days of events, one in ten of site shop.
	for d := -1; d <= 1; d++ {
		batch := make([]event.Event, 3000)
		for i := range batch {
			at := day.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*25*time.Second)
			batch[i] = storetest.Realistic("other", i, at)
			batch[i].EventID = fmt.Sprintf("%d-%d", d, i)
			if i%10 == 0 {
				batch[i].Site = "shop"
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
	part := func(d time.Time) string { return "events_p" + d.Format("20060102") }
	index := "Index Scan using " + part(day) + "_site_received_at_seq_idx"
	q := store.Query{Site: "shop", From: day, To: day.Add(24 * time.Hour)}
	hours := store.Query{Site: "shop", From: day.Add(6 * time.Hour), To: day.Add(9 * time.Hour)}
	totals, totalsArgs := postgres.TotalsSQL(q)
	hoursSQL, hoursArgs := postgres.TotalsSQL(hours)
	series, seriesArgs := postgres.SeriesSQL(q, []time.Time{day, day.Add(12 * time.Hour)}, q.To)
	tests := []struct {
		name, sql string
		args      []any
		want      []string
	}{
		// Over a whole day any index on site serves; the planner may take
		// (site, txid, seq) as well, so only the partitions are checked.
		{"Totals", totals, totalsArgs, []string{part(day)}},
		{"TotalsOverHours", hoursSQL, hoursArgs, []string{index}},
		{"Series", series, seriesArgs, []string{part(day)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := explain(t, conn, tt.sql, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan does not contain %q:\n%s", w, plan)
				}
			}
			for _, bad := range []string{part(day.AddDate(0, 0, -1)), part(day.AddDate(0, 0, 1)), "events_default", "Seq Scan on " + part(day)} {
				if strings.Contains(plan, bad) {
					t.Errorf("plan contains %s:\n%s", bad, plan)
				}
			}
		})
	}
}
