//go:build unix

package standalone

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDataDirForOwnerOnly starts a server under a permissive umask, in a
// data directory that already exists readable by others: afterwards every
// directory in it is 0700 and every file 0600 (keys, credentials, and the
// database with its -wal and -shm files, which hold visitor ids and hashed
// emails).
func TestDataDirForOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Options{Files: []string{"testdata/ok"}, DataDir: data, Listen: "127.0.0.1:0", Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seen := map[string]bool{}
	err = filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if m := info.Mode().Perm(); m != want {
			t.Errorf("%s has mode %#o, want %#o", path, m, want)
		}
		seen[filepath.Base(path)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{databaseFile, databaseFile + "-wal", databaseFile + "-shm", adminPasswordFile} {
		if !seen[f] {
			t.Errorf("%s not found in the data directory (%v)", f, seen)
		}
	}
}
