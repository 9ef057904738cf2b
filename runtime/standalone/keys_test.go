package standalone

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/sealing"
)

func noEnv(string) string { return "" }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestKeysGeneratedOnceAndKept(t *testing.T) {
	data := t.TempDir()
	first, err := loadKeys(data, []string{"shop", "blog"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Generated) != 3 {
		t.Errorf("first start generated %+v, want the two ingest keys and the admin password to show", first.Generated)
	}
	for _, site := range []string{"shop", "blog"} {
		k := first.Sites[site]
		if len(k.Ingest) < 40 || len(k.Signing) < 40 || len(k.VisitorSalt) < 40 {
			t.Errorf("site %s keys %+v", site, k)
		}
		if _, err := sealing.ParseKey(k.IPSealing); err != nil {
			t.Errorf("site %s IP sealing key: %v", site, err)
		}
		for _, f := range []string{config.KeyIngest, config.KeySigning, config.KeyVisitorSalt, config.KeyIPSealing} {
			if m := mode(t, filepath.Join(data, "keys", site, f)); m != 0o600 {
				t.Errorf("%s/%s has mode %v", site, f, m)
			}
		}
		if m := mode(t, filepath.Join(data, "keys", site)); m != 0o700 {
			t.Errorf("keys dir of %s has mode %v", site, m)
		}
	}
	if bytes.Equal(first.Sites["shop"].Ingest, first.Sites["blog"].Ingest) {
		t.Error("two sites got the same ingest key")
	}
	if m := mode(t, filepath.Join(data, adminPasswordFile)); m != 0o600 {
		t.Errorf("admin password file mode %v", m)
	}

	again, err := loadKeys(data, []string{"shop", "blog"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Generated) != 0 {
		t.Errorf("second start generated %+v", again.Generated)
	}
	if !bytes.Equal(again.AdminPassword, first.AdminPassword) || !bytes.Equal(again.Sites["shop"].Signing, first.Sites["shop"].Signing) ||
		!bytes.Equal(again.Sites["shop"].IPSealing, first.Sites["shop"].IPSealing) {
		t.Error("keys changed across starts")
	}
}

func TestKeysFromEnvironmentAreNotWritten(t *testing.T) {
	data := t.TempDir()
	k, err := loadKeys(data, []string{"shop", "blog"}, env(map[string]string{EnvIngestKey: "ingest-key-from-env", EnvAdminPassword: "password-from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if !k.IngestFromEnv || !k.AdminFromEnv || string(k.AdminPassword) != "password-from-env" ||
		string(k.Sites["shop"].Ingest) != "ingest-key-from-env" || string(k.Sites["blog"].Ingest) != "ingest-key-from-env" {
		t.Errorf("keys %+v", k)
	}
	if len(k.Generated) != 0 {
		t.Errorf("generated %+v; signing keys and salts are never shown", k.Generated)
	}
	for _, f := range []string{filepath.Join(data, adminPasswordFile), filepath.Join(data, "keys", "shop", config.KeyIngest)} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s exists: values from the environment must not be written", f)
		}
	}
}

func TestWriteCredentials(t *testing.T) {
	res, err := LoadFiles([]string{"testdata/ok"})
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	stale := filepath.Join(data, credentialsDir, "gone", "accessToken")
	if err := os.MkdirAll(filepath.Dir(stale), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeCredentials(data, res); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(data, credentialsDir, "shop-meta", "accessToken")
	if b, err := os.ReadFile(f); err != nil || string(b) != "from-stringData" {
		t.Errorf("%s: %q, %v", f, b, err)
	}
	if m := mode(t, f); m != 0o600 {
		t.Errorf("credential file mode %v", m)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("credentials of a Destination no longer in the files are kept")
	}
}

// TestIPSealingKeyAddedToOlderDataDir checks that a data directory from
// before the IP sealing key gains it on the next start, the other keys kept.
func TestIPSealingKeyAddedToOlderDataDir(t *testing.T) {
	data := t.TempDir()
	first, err := loadKeys(data, []string{"shop"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(data, "keys", "shop", config.KeyIPSealing)
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	again, err := loadKeys(data, []string{"shop"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sealing.ParseKey(again.Sites["shop"].IPSealing); err != nil {
		t.Fatalf("re-created key: %v", err)
	}
	if m := mode(t, file); m != 0o600 {
		t.Errorf("%s has mode %v", file, m)
	}
	if !bytes.Equal(again.Sites["shop"].Ingest, first.Sites["shop"].Ingest) || !bytes.Equal(again.Sites["shop"].VisitorSalt, first.Sites["shop"].VisitorSalt) {
		t.Error("other keys changed while the sealing key was added")
	}
	if len(again.Generated) != 0 {
		t.Errorf("generated %+v; the sealing key is never shown", again.Generated)
	}
}
