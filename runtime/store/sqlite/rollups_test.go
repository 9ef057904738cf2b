package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"

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
				+ (SELECT count(*) FROM rollup_visitors WHERE site = ?1 AND visitor_id = ?2)
				+ (SELECT count(*) FROM rollup_users WHERE site = ?1 AND user_id = ?2)`, site, visitorID).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	})
}

// TestRollupHoursOnePerKey checks that the hourly tier has one row per
// site, hour and dimension values, whatever the number of sessions there:
// that is what makes a long range cheap to read.
func TestRollupHoursOnePerKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path)
	defer s.Close()
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	var events []event.Event
	for i := range 40 {
		e := storetest.Realistic("shop", i, at.Add(time.Duration(i)*time.Second))
		e.SessionID, e.VisitorID = "s"+strconv.Itoa(i%20), "v"+strconv.Itoa(i%20)
		events = append(events, e)
	}
	if _, err := s.Insert(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := s.RollUp(ctx, "shop", at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, sessions int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM rollup_hours), (SELECT count(*) FROM rollup_sessions)`).Scan(&rows, &sessions); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || sessions != 20 {
		t.Errorf("20 sessions of one hour and dimension values made %d rollup_hours rows (%d session rows), want 1 (20)", rows, sessions)
	}
}
