package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/config"
)

// TestWriteSite checks that the written files are what collect reads: a
// configuration that loads, with every limit lifted, naming the DSN file
// and the keys, none of them readable by others.
func TestWriteSite(t *testing.T) {
	dir := t.TempDir()
	const dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	if err := writeSite(dir, dsn); err != nil {
		t.Fatal(err)
	}
	rt, err := config.Load(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if rt.Site.Name != SiteName {
		t.Errorf("site %q, want %q", rt.Site.Name, SiteName)
	}
	if rt.Limits == nil || *rt.Limits != (config.Limits{}) {
		t.Errorf("limits %+v, want all 0 (unlimited)", rt.Limits)
	}
	if got, err := os.ReadFile(rt.Storage.DSNFile); err != nil || string(got) != dsn {
		t.Errorf("DSN file %s holds %q (%v), want %q", rt.Storage.DSNFile, got, err, dsn)
	}
	files := []string{filepath.Join(dir, config.FileName), rt.Storage.DSNFile}
	for _, k := range []string{config.KeyIngest, config.KeySigning, config.KeyVisitorSalt} {
		files = append(files, filepath.Join(rt.Site.KeysDir, k))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			if fi.Size() == 0 {
				t.Error("empty")
			}
		})
	}
}

func TestPrintFreePorts(t *testing.T) {
	var out strings.Builder
	if err := printFreePorts(&out, 3); err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(out.String())
	if len(lines) != 3 {
		t.Fatalf("printed %q, want 3 ports", out.String())
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if p, err := strconv.Atoi(l); err != nil || p <= 0 || p > 65535 {
			t.Errorf("%q is not a port", l)
		}
		if seen[l] {
			t.Errorf("port %s printed twice", l)
		}
		seen[l] = true
	}
}
