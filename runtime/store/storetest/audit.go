package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// runAudit checks the dashboard's audit log (store.AuditLog).
func runAudit(t *testing.T, fresh func(t *testing.T) store.Store, now time.Time) {
	t.Run("Audit", func(t *testing.T) {
		t.Run("NewestFirst", func(t *testing.T) { auditNewestFirst(t, asAudit(t, fresh(t)), now) })
		t.Run("Limit", func(t *testing.T) { auditLimit(t, asAudit(t, fresh(t)), now) })
		t.Run("SiteIsolation", func(t *testing.T) { auditIsolation(t, asAudit(t, fresh(t)), now) })
		t.Run("UnicodeDetail", func(t *testing.T) { auditUnicode(t, asAudit(t, fresh(t)), now) })
		t.Run("BadInput", func(t *testing.T) { auditBadInput(t, asAudit(t, fresh(t)), now) })
	})
}

func asAudit(t *testing.T, s store.Store) store.AuditLog {
	t.Helper()
	a, ok := s.(store.AuditLog)
	if !ok {
		t.Fatalf("%T does not implement store.AuditLog", s)
	}
	return a
}

func recordAudit(t *testing.T, a store.AuditLog, entries ...store.AuditEntry) {
	t.Helper()
	for _, e := range entries {
		if err := a.RecordAudit(context.Background(), e); err != nil {
			t.Fatalf("RecordAudit(%+v): %v", e, err)
		}
	}
}

func listAudit(t *testing.T, a store.AuditLog, site string, limit int) []store.AuditEntry {
	t.Helper()
	got, err := a.ListAudit(context.Background(), site, limit)
	if err != nil {
		t.Fatalf("ListAudit(%q, %d): %v", site, limit, err)
	}
	return got
}

// assertAudit compares entries field by field, times at microseconds.
func assertAudit(t *testing.T, got, want []store.AuditEntry) {
	t.Helper()
	for i := range want {
		want[i].At = want[i].At.Truncate(time.Microsecond).UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListAudit returned\n%+v\nwant\n%+v", got, want)
	}
}

func auditNewestFirst(t *testing.T, a store.AuditLog, now time.Time) {
	// Recorded out of time order; the two at the same instant come back
	// later-recorded first.
	signIn := store.AuditEntry{Site: "shop", At: now, Actor: "admin", Action: "sign_in", Detail: "password"}
	logout := store.AuditEntry{Site: "shop", At: now.Add(time.Hour), Actor: "admin", Action: "logout"}
	failed := store.AuditEntry{Site: "shop", At: now.Add(-time.Minute), Action: "sign_in_failed", Detail: "password"}
	again := store.AuditEntry{Site: "shop", At: now, Actor: "ann@example.com", Action: "sign_in", Detail: "oidc"}
	recordAudit(t, a, signIn, logout, failed, again)
	assertAudit(t, listAudit(t, a, "shop", 10), []store.AuditEntry{logout, again, signIn, failed})
}

func auditLimit(t *testing.T, a store.AuditLog, now time.Time) {
	for i := range 5 {
		recordAudit(t, a, store.AuditEntry{Site: "shop", At: now.Add(time.Duration(i) * time.Second), Actor: "admin", Action: "sign_in", Detail: "basic"})
	}
	got := listAudit(t, a, "shop", 2)
	if len(got) != 2 || !got[0].At.Equal(now.Add(4*time.Second).Truncate(time.Microsecond)) || !got[1].At.Equal(now.Add(3*time.Second).Truncate(time.Microsecond)) {
		t.Errorf("ListAudit with limit 2 = %+v, want the two newest", got)
	}
	for _, limit := range []int{0, -1} {
		if got := listAudit(t, a, "shop", limit); len(got) != 0 {
			t.Errorf("ListAudit with limit %d = %d entries, want none", limit, len(got))
		}
	}
}

func auditIsolation(t *testing.T, a store.AuditLog, now time.Time) {
	shop := store.AuditEntry{Site: "shop", At: now, Actor: "admin", Action: "sign_in", Detail: "password"}
	other := store.AuditEntry{Site: "other", At: now.Add(time.Second), Actor: "admin", Action: "logout"}
	recordAudit(t, a, shop, other)
	assertAudit(t, listAudit(t, a, "shop", 10), []store.AuditEntry{shop})
	assertAudit(t, listAudit(t, a, "other", 10), []store.AuditEntry{other})
	if got := listAudit(t, a, "nobody", 10); len(got) != 0 {
		t.Errorf("a site with no entries has %+v", got)
	}
}

func auditUnicode(t *testing.T, a store.AuditLog, now time.Time) {
	e := store.AuditEntry{Site: "shop", At: now, Actor: "jürgen.müller@exämple.com", Action: "sign_in_failed",
		Detail: "oidc: Gruppe „Ärzte“ fehlt — 🚫 ✓ 日本語 'quoted' \"double\" ; -- \x01"}
	recordAudit(t, a, e)
	assertAudit(t, listAudit(t, a, "shop", 1), []store.AuditEntry{e})
}

func auditBadInput(t *testing.T, a store.AuditLog, now time.Time) {
	for name, e := range map[string]store.AuditEntry{
		"no site":   {At: now, Action: "sign_in"},
		"no time":   {Site: "shop", Action: "sign_in"},
		"no action": {Site: "shop", At: now},
	} {
		if err := a.RecordAudit(context.Background(), e); !errors.Is(err, store.ErrInvalidAudit) {
			t.Errorf("RecordAudit with %s = %v, want ErrInvalidAudit", name, err)
		}
	}
	if got := listAudit(t, a, "shop", 10); len(got) != 0 {
		t.Errorf("invalid entries were stored: %+v", got)
	}
}
