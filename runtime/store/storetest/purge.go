package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// SiteRowCounter counts a site's rows in every table that has a site
// column. Each store's test implements it with its own catalog query, so
// the purge case checks PurgeSite against a count that does not share its
// way of finding the tables.
type SiteRowCounter interface {
	SiteRows(ctx context.Context, site string) (map[string]int64, error)
}

// purgeTables are the tables every store has; a table a later migration
// adds is counted through SiteRows without being listed here.
var purgeTables = []string{"audit_log", "deliveries", "events", "forward_cursors"}

// runPurge checks store.SitePurger.
func runPurge(t *testing.T, fresh func(t *testing.T) store.Store, now time.Time) {
	t.Run("Purge", func(t *testing.T) {
		t.Run("OneSiteGoneOtherUntouched", func(t *testing.T) { purgeOneSite(t, fresh(t), now) })
		t.Run("AgainAfterInterruption", func(t *testing.T) { purgeInterrupted(t, fresh(t), now) })
		t.Run("NothingStored", func(t *testing.T) {
			got, err := asPurger(t, fresh(t)).PurgeSite(context.Background(), "nobody", nil)
			if err != nil {
				t.Fatalf("PurgeSite of a site without rows: %v", err)
			}
			for _, table := range purgeTables {
				if n, ok := got[table]; !ok || n != 0 {
					t.Errorf("PurgeSite reports %s: %d (listed %v), want 0 and listed", table, n, ok)
				}
			}
		})
		t.Run("NoSite", func(t *testing.T) {
			if _, err := asPurger(t, fresh(t)).PurgeSite(context.Background(), "", nil); !errors.Is(err, store.ErrNoSite) {
				t.Errorf("PurgeSite(\"\") = %v, want ErrNoSite", err)
			}
		})
	})
}

func asPurger(t *testing.T, s store.Store) store.SitePurger {
	t.Helper()
	p, ok := s.(store.SitePurger)
	if !ok {
		t.Fatalf("%T does not implement store.SitePurger", s)
	}
	return p
}

func siteRows(t *testing.T, s store.Store, site string) map[string]int64 {
	t.Helper()
	c, ok := s.(SiteRowCounter)
	if !ok {
		t.Fatalf("%T does not implement storetest.SiteRowCounter (the store's test must)", s)
	}
	rows, err := c.SiteRows(context.Background(), site)
	if err != nil {
		t.Fatalf("SiteRows(%s): %v", site, err)
	}
	return rows
}

// seedSite gives a site events on four days (one of them its own, so a
// PostgreSQL partition holds only its rows), a cursor and delivery records
// at two destinations, and audit entries.
func seedSite(t *testing.T, s store.Store, site string, now time.Time, ownDay time.Duration) {
	t.Helper()
	f := asForwarding(t, s)
	for _, dest := range []string{"meta", "hook"} {
		f.open(site, dest, now.Add(-10*24*time.Hour), false)
	}
	var evs []event.Event
	for i, d := range []time.Duration{-26 * time.Hour, 0, 0, 25 * time.Hour, ownDay} {
		evs = append(evs, Full(site, fmt.Sprint(site, "-", i), now.Add(d)))
	}
	mustInsert(t, s, evs, len(evs))
	f.drain(site, "meta", 3)
	f.drain(site, "hook", 10)
	recordAudit(t, asAudit(t, s),
		store.AuditEntry{Site: site, At: now, Actor: "admin", Action: "sign_in", Detail: "password"},
		store.AuditEntry{Site: site, At: now.Add(time.Minute), Actor: "admin", Action: "logout"})
	seedErasureAndRun(t, s, site, now)
}

// seedErasureAndRun gives the site a pending erasure request and a recorded
// retention run, in the stores that keep them: rows of tables this case
// does not list, which the purge must find by their site column.
func seedErasureAndRun(t *testing.T, s store.Store, site string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	if e, ok := s.(store.Erasure); ok {
		req := store.ErasureRequest{Site: site, RequestedAt: now, RequestedBy: "admin", KeyKind: store.KeyVisitorID, Key: "someone", Suppress: true}
		if _, err := e.RequestErasure(ctx, req); err != nil {
			t.Fatalf("RequestErasure: %v", err)
		}
	}
	if r, ok := s.(store.Retention); ok {
		run := store.RetentionRun{Site: site, Policy: "daily", StartedAt: now, FinishedAt: now.Add(time.Second), Summary: []byte(`{}`)}
		if err := r.RecordRetentionRun(ctx, run); err != nil {
			t.Fatalf("RecordRetentionRun: %v", err)
		}
	}
}

func purgeOneSite(t *testing.T, s store.Store, now time.Time) {
	ctx := context.Background()
	seedSite(t, s, "closing", now, -50*time.Hour)
	seedSite(t, s, "staying", now, 49*time.Hour)
	before := siteRows(t, s, "closing")
	for _, table := range purgeTables {
		if before[table] == 0 {
			t.Fatalf("the fixture left %s without rows of the site: %v", table, before)
		}
	}
	t.Logf("rows of the site before the purge: %v", before)
	staying := siteRows(t, s, "staying")
	staysRecent := mustRecent(t, s, "staying", 100)

	last := map[string]int64{}
	got, err := asPurger(t, s).PurgeSite(ctx, "closing", func(table string, removed int64) {
		if removed <= last[table] {
			t.Errorf("progress of %s went from %d to %d", table, last[table], removed)
		}
		last[table] = removed
	})
	if err != nil {
		t.Fatalf("PurgeSite: %v", err)
	}
	for table, n := range got {
		if n != before[table] {
			t.Errorf("PurgeSite reports %d rows of %s removed, the site had %d", n, table, before[table])
		}
		if n > 0 && last[table] != n {
			t.Errorf("last progress of %s = %d, want the total %d", table, last[table], n)
		}
	}
	for _, table := range purgeTables {
		if _, ok := got[table]; !ok {
			t.Errorf("PurgeSite did not report %s: %v", table, got)
		}
	}
	assertNoRows(t, siteRows(t, s, "closing"))
	if after := siteRows(t, s, "staying"); !maps.Equal(after, staying) {
		t.Errorf("the other site's rows changed: before %v, after %v", staying, after)
	}
	assertIDs(t, mustRecent(t, s, "closing", 100))
	assertIDs(t, mustRecent(t, s, "staying", 100), idsOf(staysRecent)...)
	if a := listAudit(t, asAudit(t, s), "closing", 10); len(a) != 0 {
		t.Errorf("audit entries left: %+v", a)
	}
	if _, _, err := asForwarding(t, s).Feed(ctx, "closing", "meta", 10); !errors.Is(err, store.ErrNoCursor) {
		t.Errorf("Feed of a purged site = %v, want ErrNoCursor", err)
	}
	if n := len(asForwarding(t, s).list("staying", "hook", "")); n != len(staysRecent) {
		t.Errorf("the other site has %d delivery records at hook, want %d", n, len(staysRecent))
	}
}

// purgeInterrupted stops a purge at its first batch, then runs it again.
func purgeInterrupted(t *testing.T, s store.Store, now time.Time) {
	seedSite(t, s, "closing", now, -50*time.Hour)
	seedSite(t, s, "staying", now, 49*time.Hour)
	staying := siteRows(t, s, "staying")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := asPurger(t, s).PurgeSite(ctx, "closing", func(string, int64) { cancel() }); err == nil {
		t.Fatal("PurgeSite went on after its context was canceled")
	}
	if left := siteRows(t, s, "closing"); total(left) == 0 {
		t.Fatalf("the interrupted purge removed everything; the case checks nothing: %v", left)
	}
	if _, err := asPurger(t, s).PurgeSite(context.Background(), "closing", nil); err != nil {
		t.Fatalf("PurgeSite again: %v", err)
	}
	assertNoRows(t, siteRows(t, s, "closing"))
	if after := siteRows(t, s, "staying"); !maps.Equal(after, staying) {
		t.Errorf("the other site's rows changed: before %v, after %v", staying, after)
	}
}

func assertNoRows(t *testing.T, rows map[string]int64) {
	t.Helper()
	for _, table := range slices.Sorted(maps.Keys(rows)) {
		if rows[table] != 0 {
			t.Errorf("%s still has %d rows of the purged site", table, rows[table])
		}
	}
}

func total(rows map[string]int64) int64 {
	var n int64
	for _, v := range rows {
		n += v
	}
	return n
}

func idsOf(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventID
	}
	return out
}
