package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// seedSQLite stores events, a cursor with delivery records and an audit
// entry for each site in a new SQLite database at path.
func seedSQLite(t *testing.T, path string, sites ...string) {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, site := range sites {
		if _, err := st.OpenCursor(ctx, site, "hook", now.Add(-time.Hour), false); err != nil {
			t.Fatal(err)
		}
		var evs []event.Event
		for _, id := range []string{"a", "b", "c"} {
			evs = append(evs, event.Event{Site: site, EventID: id, Type: event.TypeConversion, Name: "purchase", Source: event.SourceServer, Timestamp: now, ReceivedAt: now})
		}
		if _, err := st.Insert(ctx, evs); err != nil {
			t.Fatal(err)
		}
		fed, pos, err := st.Feed(ctx, site, "hook", 10)
		if err != nil {
			t.Fatal(err)
		}
		var recs []store.Delivery
		for _, e := range fed {
			recs = append(recs, store.Delivery{EventID: e.EventID, Status: store.DeliveryPending, SendAs: "conversion", ReceivedAt: e.ReceivedAt, Source: e.Source})
		}
		if _, err := st.Track(ctx, site, "hook", recs, pos); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordAudit(ctx, store.AuditEntry{Site: site, At: now, Actor: "admin", Action: "sign_in"}); err != nil {
			t.Fatal(err)
		}
	}
}

// countEvents returns how many events of site the database at path holds.
func countEvents(t *testing.T, path, site string) int {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Recent(context.Background(), site, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestPurgeFromRuntimeConfig runs purge as the operator's Job does: the
// site's configuration, here on SQLite under --root. The site's rows go,
// the other site's stay, the summary counts them, and a second run finds
// nothing left.
func TestPurgeFromRuntimeConfig(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "etc/trackstack/config/config.yaml"), sqliteConfig("shop"))
	db := filepath.Join(root, "var/lib/trackstack/events.db")
	seedSQLite(t, db, "shop", "other")
	args := []string{"purge", "--config", "/etc/trackstack/config/config.yaml", "--root", root, "--site", "shop", "--confirm-site", "shop"}

	code, out, errOut := runCmd(context.Background(), nil, args...)
	if code != exitOK {
		t.Fatalf("purge: exit %d\n%s", code, errOut)
	}
	sum := decodeSummary(t, out)
	want := map[string]int64{"events": 3, "deliveries": 3, "forward_cursors": 1, "audit_log": 1}
	for table, n := range want {
		if sum.Tables[table] != n {
			t.Errorf("summary: %s %d, want %d (%s)", table, sum.Tables[table], n, out)
		}
	}
	if sum.Site != "shop" || sum.Driver != "sqlite" || sum.Rows != 8 || sum.DurationSeconds <= 0 {
		t.Errorf("summary %s", out)
	}
	if !strings.Contains(errOut, `"msg":"site purged"`) || !strings.Contains(errOut, `"table":"events","removed":3`) {
		t.Errorf("stderr lacks the progress:\n%s", errOut)
	}
	if n := countEvents(t, db, "shop"); n != 0 {
		t.Errorf("%d events of the purged site left", n)
	}
	if n := countEvents(t, db, "other"); n != 3 {
		t.Errorf("the other site has %d events, want 3", n)
	}

	code, out, _ = runCmd(context.Background(), nil, args...)
	if code != exitOK || decodeSummary(t, out).Rows != 0 {
		t.Errorf("second purge: exit %d, %s", code, out)
	}
}

// TestPurgeStandalone purges a site of a standalone stack's files in its
// data directory.
func TestPurgeStandalone(t *testing.T) {
	data := t.TempDir()
	seedSQLite(t, filepath.Join(data, "trackstack.db"), "demo", "other")
	code, out, errOut := runCmd(context.Background(), nil, "purge", "--site", "demo", "--confirm-site", "demo",
		"--data", data, "-f", "../../../config/samples/standalone")
	if code != exitOK {
		t.Fatalf("purge: exit %d\n%s", code, errOut)
	}
	if sum := decodeSummary(t, out); sum.Tables["events"] != 3 || sum.Rows != 8 {
		t.Errorf("summary %s", out)
	}
	if n := countEvents(t, filepath.Join(data, "trackstack.db"), "other"); n != 3 {
		t.Errorf("the other site has %d events, want 3", n)
	}
}

// TestPurgeRefuses: bad or unconfirmed arguments are usage errors (exit 2)
// that delete nothing; a store that cannot be reached is a failure (exit 1).
func TestPurgeRefuses(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "etc/trackstack/config/config.yaml"), sqliteConfig("shop"))
	cfg := "/etc/trackstack/config/config.yaml" // under --root
	db := filepath.Join(root, "var/lib/trackstack/events.db")
	seedSQLite(t, db, "shop")
	pgRoot := t.TempDir()
	writeFile(t, filepath.Join(pgRoot, "etc/trackstack/storage/uri"), "postgres://trackstack:s3cret-pw@127.0.0.1:1/none?connect_timeout=5")
	writeFile(t, filepath.Join(pgRoot, "config.yaml"), strings.Replace(sqliteConfig("shop"),
		"  driver: sqlite\n  sqlitePath: /var/lib/trackstack/events.db\n", "  driver: postgres\n  dsnFile: /etc/trackstack/storage/uri\n", 1))
	const samples = "../../../config/samples/standalone"
	withConfig := func(extra ...string) []string {
		return append([]string{"purge", "--config", cfg, "--root", root}, extra...)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no site", withConfig(), exitUsage, "--site is required"},
		{"no confirmation", withConfig("--site", "shop"), exitUsage, `--confirm-site "" does not match --site "shop"`},
		{"other confirmation", withConfig("--site", "shop", "--confirm-site", "shop2"), exitUsage, "name it twice"},
		{"another site's configuration", withConfig("--site", "other", "--confirm-site", "other"), exitUsage, `--site "other" is not the site of`},
		{"a site not in the files", []string{"purge", "--site", "shop", "--confirm-site", "shop", "-f", samples, "--data", root}, exitUsage, "not a TrackingSite of the files"},
		{"no database in --data", []string{"purge", "--site", "demo", "--confirm-site", "demo", "-f", samples, "--data", t.TempDir()}, exitUsage, "no database"},
		{"stray argument", withConfig("--site", "shop", "--confirm-site", "shop", "now"), exitUsage, `unexpected argument "now"`},
		{"store unreachable", []string{"purge", "--config", "/config.yaml", "--root", pgRoot, "--site", "shop", "--confirm-site", "shop"}, exitFailure, "run it again to finish"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(context.Background(), nil, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) || out != "" {
				t.Errorf("exit %d (want %d), stdout %q, stderr:\n%s\nwant it to contain %q", code, tc.code, out, errOut, tc.stderr)
			}
			if strings.Contains(errOut, "s3cret-pw") {
				t.Errorf("stderr shows the database password:\n%s", errOut)
			}
		})
	}
	if n := countEvents(t, db, "shop"); n != 3 {
		t.Errorf("refused purges left %d events, want 3", n)
	}
}

func decodeSummary(t *testing.T, out string) purgeSummary {
	t.Helper()
	var sum purgeSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, out)
	}
	return sum
}
