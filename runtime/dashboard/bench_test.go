package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/attribution"
	"github.com/trackstack/trackstack/runtime/internal/pgtest"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/postgres"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

// BenchmarkPeople measures, through the API on PostgreSQL with 10M events
// over 30 days (storetest.BenchEventsVar sets another count), rolled up
// but for the last hour as the dashboard keeps them, the 30-day
// attribution report of every model and the journey lookup by visitor id
// and by user id, each as p50 and p95.
func BenchmarkPeople(b *testing.B) {
	ctx := context.Background()
	dsn := pgtest.Start(b)
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	n := storetest.BenchEvents(b, 10_000_000)
	from, to := storetest.FillSessions(b, st, n)
	// Statistics, as a database that ran for 30 days has them.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	conn.Close(ctx)
	// The dashboard rolls its sites up every minute: all but the open hour.
	start := time.Now()
	if err := st.RollUp(ctx, "shop", to.Add(-time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.Logf("rolled up %d events in %v", n, time.Since(start).Round(time.Second))
	api := &API{Store: st, Goals: map[string][]store.Goal{"shop": nil}, Now: func() time.Time { return to }}
	mux := http.NewServeMux()
	api.Register(mux)
	call := func(path string) error {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			body, _ := io.ReadAll(rec.Body)
			return fmt.Errorf("%s: %d %s", path, rec.Code, body)
		}
		return nil
	}
	rng := fmt.Sprintf("from=%s&to=%s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	for _, m := range attribution.Models() {
		b.Run("attribution30d/"+m.Name(), func(b *testing.B) {
			storetest.Measure(b, func() error { return call("/api/v1/sites/shop/attribution?model=" + m.Name() + "&" + rng) })
		})
	}
	i := 0
	b.Run("journey/visitor", func(b *testing.B) {
		storetest.Measure(b, func() error {
			i++
			return call(fmt.Sprintf("/api/v1/sites/shop/journeys?visitor_id=v%d-8c1f2a7b93d4", i*7919%1000))
		})
	})
	b.Run("journey/user", func(b *testing.B) {
		storetest.Measure(b, func() error {
			i++
			return call(fmt.Sprintf("/api/v1/sites/shop/journeys?user_id=u%d", i*7919%1000))
		})
	})
}
