package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/internal/pgtest"
)

// TestExportFromStandaloneIntoPostgres: a standalone site's events move to
// the PostgreSQL store of a cluster and come back out the same, so export
// and import also carry a site from SQLite to PostgreSQL. Only the key
// order inside properties may differ: jsonb keeps its own.
func TestExportFromStandaloneIntoPostgres(t *testing.T) {
	ctx := context.Background()
	src := siteRoot(t, exportFixture())
	backup := filepath.Join(t.TempDir(), "shop.ndjson")
	if code, _, errOut := runCmd(ctx, nil, "export", "--config", podConfig, "--root", src, "--site", "shop", "-o", backup); code != exitOK {
		t.Fatalf("export from SQLite: exit %d\n%s", code, errOut)
	}

	dst := t.TempDir()
	cfg := strings.Replace(sqliteConfig("shop"), "  driver: sqlite\n  sqlitePath: /var/lib/trackstack/events.db\n",
		"  driver: postgres\n  dsnFile: /etc/trackstack/storage/uri\n", 1)
	writeFile(t, filepath.Join(dst, podConfig), cfg)
	writeFile(t, filepath.Join(dst, "etc/trackstack/storage/uri"), pgtest.Start(t)+"\n")
	code, out, errOut := runCmd(ctx, nil, "import", "--config", podConfig, "--root", dst, "--site", "shop", "-i", backup)
	if code != exitOK || strings.TrimSpace(out) != `{"site":"shop","read":1503,"inserted":1503,"skipped":0,"suppressed":0}` {
		t.Fatalf("import into PostgreSQL: exit %d, stdout %q\n%s", code, out, errOut)
	}
	code, out, errOut = runCmd(ctx, nil, "export", "--config", podConfig, "--root", dst, "--site", "shop")
	if code != exitOK {
		t.Fatalf("export from PostgreSQL: exit %d\n%s", code, errOut)
	}
	want, got := readLines(t, backup), strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("PostgreSQL exports %d events, SQLite exported %d", len(got), len(want))
	}
	for i := range want {
		if !sameEvent(t, got[i], want[i]) {
			t.Fatalf("line %d differs:\ngot  %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

// sameEvent compares two export lines as events, properties as JSON values.
func sameEvent(t *testing.T, a, b string) bool {
	t.Helper()
	evs := decodeLines(t, []string{a, b})
	var pa, pb any
	if err := errors.Join(json.Unmarshal(orNull(evs[0].Properties), &pa), json.Unmarshal(orNull(evs[1].Properties), &pb)); err != nil {
		t.Fatal(err)
	}
	evs[0].Properties, evs[1].Properties = nil, nil
	return reflect.DeepEqual(evs[0], evs[1]) && reflect.DeepEqual(pa, pb)
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}
