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
