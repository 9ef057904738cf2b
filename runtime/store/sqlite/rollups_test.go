package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/storetest"
)

func TestRollups(t *testing.T) {
	storetest.RunRollups(t, func(t *testing.T) (store.Store, storetest.DeleteEvents) {
		path := filepath.Join(t.TempDir(), "events.db")
		return open(t, path), func(t *testing.T, site string, ids ...string) {
			t.Helper()
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, id := range ids {
				if _, err := db.Exec("DELETE FROM events WHERE site = ? AND event_id = ?", site, id); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func TestRollupForgetting(t *testing.T) {
	storetest.RunRollupForgetting(t, func(t *testing.T) (store.Store, storetest.VisitorRows) {
		path := filepath.Join(t.TempDir(), "events.db")
		return open(t, path), func(t *testing.T, site, visitorID string) int64 {
			t.Helper()
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int64
			err = db.QueryRow(`SELECT (SELECT count(*) FROM rollup_sessions WHERE site = ?1 AND visitor_id = ?2)
				+ (SELECT count(*) FROM rollup_visitors WHERE site = ?1 AND visitor_id = ?2)`, site, visitorID).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	})
}
