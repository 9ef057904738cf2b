package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

func TestRollups(t *testing.T) {
	storetest.RunRollups(t, func(t *testing.T) (store.Store, storetest.DeleteEvents) {
		dsn := pg.NewDatabase(t)
		return openDSN(t, dsn), func(t *testing.T, site string, ids ...string) {
			t.Helper()
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "DELETE FROM events WHERE site = $1 AND event_id = ANY($2)", site, ids); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestRollupForgetting(t *testing.T) {
	storetest.RunRollupForgetting(t, func(t *testing.T) (store.Store, storetest.VisitorRows) {
		dsn := pg.NewDatabase(t)
		return openDSN(t, dsn), func(t *testing.T, site, visitorID string) int64 {
			t.Helper()
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var n int64
			err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM rollup_sessions WHERE site = $1 AND visitor_id = $2)
				+ (SELECT count(*) FROM rollup_visitors WHERE site = $1 AND visitor_id = $2)
				+ (SELECT count(*) FROM rollup_users WHERE site = $1 AND user_id = $2)`, site, visitorID).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	})
}
