//go:build unix

package sqlite_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFileModes opens databases under a permissive umask. The database and
// its -wal and -shm files hold visitor ids and hashed emails: only their
// owner may read them, whatever the umask, and a database left readable by
// others (by an earlier version) is closed off when opened.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })

	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, path string)
	}{
		{"new database", func(*testing.T, string) {}},
		{"existing database readable by others", func(t *testing.T, path string) {
			open(t, path).Close()
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			// A -wal file left with the same mode by a crash.
			if err := os.WriteFile(path+"-wal", nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "events.db")
			tc.prepare(t, path)
			s := open(t, path) // migrates: writes to the WAL
			defer s.Close()
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				if m := fi.Mode().Perm(); m != 0o600 {
					t.Errorf("%s has mode %#o, want 0600", filepath.Base(f), m)
				}
			}
		})
	}
}
