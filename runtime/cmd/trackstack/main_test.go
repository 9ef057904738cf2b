package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// runCmd runs the binary's main logic in process.
func runCmd(ctx context.Context, environ map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return environ[k] }})
	return code, out.String(), errOut.String()
}

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"collect", "--help"}, []string{"-config", "-listen", "-root", "-skip-migrations", "-trusted-proxies", "-drain-delay", "-shutdown-timeout", "-debug-listen", "-log-level", "TRACKSTACK_LISTEN", "/etc/trackstack/config/config.yaml"}},
		{[]string{"migrate", "-h"}, []string{"-config", "-root", "-timeout", "-log-level", "TRACKSTACK_CONFIG"}},
		{[]string{"standalone", "--help"}, []string{"-f ", "-listen", "-data", "-shutdown-timeout", "TRACKSTACK_ADMIN_PASSWORD", "TRACKSTACK_INGEST_KEY", "/api/v1/sites/<site>/events", "127.0.0.1:8080"}},
		{[]string{"forward", "--help"}, []string{"-destination", "-listen", "-backfill-since", "-replay", "-event-id", "-skip-migrations", "-root", "TRACKSTACK_DESTINATION", "creation time"}},
		{[]string{"retention", "--help"}, []string{"-policy", "-dry-run", "-now", "-f ", "-data", "-config", "-skip-migrations", "TRACKSTACK_POLICY"}},
		{[]string{"export", "--help"}, []string{"-site", "-visitor-id", "-user-id", "-from", "-to", "-format", "-o ", "-config", "-root", "-f files", "-data", "0600"}},
		{[]string{"import", "--help"}, []string{"-site", "-i ", "-config", "-root", "-f files", "-data", "-skip-migrations", "event_id"}},
		{[]string{"purge", "--help"}, []string{"-site", "-confirm-site", "-config", "-root", "-data", "-f ", "durationSeconds"}},
		{[]string{"version", "--help"}, []string{"Usage: trackstack version"}},
		{[]string{"help", "collect"}, []string{"Usage: trackstack collect"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCmd(context.Background(), nil, tc.args...)
			if code != exitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.HasPrefix(out, "Usage: trackstack ") || !strings.Contains(out, "Flags:") {
				t.Errorf("help starts %.80q", out)
			}
			for _, f := range tc.flags {
				if !strings.Contains(out, f) {
					t.Errorf("help lacks %q:\n%s", f, out)
				}
			}
		})
	}
	code, out, _ := runCmd(context.Background(), nil, "help")
	for _, sub := range []string{"collect", "export", "forward", "import", "migrate", "purge", "standalone", "version", "Exit codes"} {
		if code != exitOK || !strings.Contains(out, sub) {
			t.Errorf("trackstack help (exit %d) lacks %s:\n%s", code, sub, out)
		}
	}
	code, out, _ = runCmd(context.Background(), nil, "version")
	if code != exitOK || !strings.HasPrefix(out, "trackstack ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %d %q", code, out)
	}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sqliteConfig is a runtime configuration on SQLite with absolute paths.
func sqliteConfig(site string) string {
	return fmt.Sprintf(`apiVersion: runtime.trackstack.dev/v1
kind: RuntimeConfig
site:
  name: %s
  domains: [shop.example.com]
  keysDir: /etc/trackstack/keys
storage:
  driver: sqlite
  sqlitePath: /var/lib/trackstack/events.db
tracker:
  path: /_ts
  cookieless: false
  consentMode: none
  autocapture: {clicks: true, forms: true, outboundLinks: true, spa: true}
privacy:
  ipAnonymization: truncate
`, site)
}

func TestUsageAndConfigErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.yaml"), sqliteConfig("shop"))
	notYAML := writeFile(t, filepath.Join(dir, "broken.yaml"), "site: [\n")
	oldVersion := writeFile(t, filepath.Join(dir, "old.yaml"), strings.Replace(sqliteConfig("shop"), "runtime.trackstack.dev/v1", "runtime.trackstack.dev/v0", 1))
	unknownField := writeFile(t, filepath.Join(dir, "unknown.yaml"), sqliteConfig("shop")+"colour: blue\n")
	noSite := writeFile(t, filepath.Join(dir, "nosite.yaml"), strings.Replace(sqliteConfig("shop"), "name: shop", "name: ''", 1))
	badSite := writeFile(t, filepath.Join(dir, "site", "a.yaml"), "apiVersion: trackstack.dev/v1alpha1\nkind: TrackingSite\nmetadata: {name: shop}\nspec: {domain: [x]}\n")
	for _, tc := range []struct {
		name    string
		args    []string
		environ map[string]string
		want    []string // in stderr
	}{
		{"no arguments", nil, nil, []string{"Usage:", "Subcommands:"}},
		{"unknown subcommand", []string{"serve"}, nil, []string{`unknown subcommand "serve"`, "collect"}},
		{"help for unknown", []string{"help", "serve"}, nil, []string{`unknown subcommand "serve"`}},
		{"unknown flag", []string{"collect", "--port=80"}, nil, []string{"flag provided but not defined: -port", "trackstack collect --help"}},
		{"stray argument", []string{"migrate", "--config", good, "now"}, nil, []string{`unexpected argument "now"`}},
		{"missing config", []string{"collect", "--config", filepath.Join(dir, "nope.yaml")}, nil, []string{"nope.yaml: no such file"}},
		{"config not YAML", []string{"collect", "--config", notYAML}, nil, []string{"broken.yaml", "parsing runtime config"}},
		{"config of another version", []string{"migrate", "--config", oldVersion}, nil, []string{`this runtime reads RuntimeConfig "runtime.trackstack.dev/v1"`}},
		{"config with unknown field", []string{"collect", "--config", unknownField}, nil, []string{"unknown.yaml", "colour"}},
		{"invalid config", []string{"collect", "--config", noSite}, nil, []string{"site.name is empty"}},
		{"config from env", []string{"collect"}, map[string]string{"TRACKSTACK_CONFIG": notYAML}, []string{"broken.yaml"}},
		{"bad env bool", []string{"collect", "--config", good}, map[string]string{"TRACKSTACK_SKIP_MIGRATIONS": "maybe"}, []string{`TRACKSTACK_SKIP_MIGRATIONS="maybe" is not a boolean`}},
		{"bad env duration", []string{"collect", "--config", good}, map[string]string{"TRACKSTACK_DRAIN_DELAY": "5"}, []string{"TRACKSTACK_DRAIN_DELAY"}},
		{"bad log level", []string{"migrate", "--config", good, "--log-level", "loud"}, nil, []string{"log-level"}},
		{"bad trusted proxy", []string{"collect", "--config", good, "--trusted-proxies", "10.0.0.0/8,nowhere"}, nil, []string{`"nowhere" is not a CIDR`}},
		{"forward without destination", []string{"forward", "--config", good}, nil, []string{"--destination is required"}},
		{"forward to an unknown destination", []string{"forward", "--config", good, "--destination", "meta"}, nil, []string{`destination "meta" is not in`, "it has: none"}},
		{"forward with a bad backfill time", []string{"forward", "--config", good, "--destination", "meta", "--backfill-since", "yesterday"}, nil, []string{`--backfill-since "yesterday" is not RFC 3339`}},
		{"event id without replay", []string{"forward", "--config", good, "--destination", "meta", "--event-id", "e1"}, nil, []string{"--event-id goes with --replay"}},
		{"standalone without files", []string{"standalone"}, nil, []string{"-f is required"}},
		{"standalone with a bad file", []string{"standalone", "-f", badSite, "--data", filepath.Join(dir, "data")}, nil, []string{"a.yaml (document 1)", `unknown field "spec.domain"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(context.Background(), tc.environ, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, exitUsage, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestMigrateThenCollect runs both subcommands in process on SQLite, with
// the configuration's absolute paths under --root as in a pod.
func TestMigrateThenCollect(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "etc/trackstack/config/config.yaml"), sqliteConfig("shop"))
	writeFile(t, filepath.Join(root, "etc/trackstack/keys", config.KeyIngest), "the-ingest-key\n")
	writeFile(t, filepath.Join(root, "etc/trackstack/keys", config.KeyVisitorSalt), "salt")

	code, _, errOut := runCmd(context.Background(), nil, "migrate", "--config", "/etc/trackstack/config/config.yaml", "--root", root)
	if code != exitOK || !strings.Contains(errOut, `"msg":"store migrations applied"`) {
		t.Fatalf("migrate: exit %d\n%s", code, errOut)
	}
	db := filepath.Join(root, "var/lib/trackstack/events.db")
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("migrate did not create the database under --root: %v", err)
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut2 bytes.Buffer // slog serializes writes; read after run returns
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"collect", "--skip-migrations", "--listen", addr},
			&env{stdout: io.Discard, stderr: &errOut2, getenv: func(k string) string {
				return map[string]string{"TRACKSTACK_CONFIG": "/etc/trackstack/config/config.yaml", "TRACKSTACK_ROOT": root}[k]
			}})
	}()
	waitReady(t, "http://"+addr)
	body := `{"site": "shop", "events": [{"event_id": "o-1", "type": "conversion", "name": "purchase", "timestamp": "` + time.Now().UTC().Format(time.RFC3339) + `"}]}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer the-ingest-key")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/events: %d", res.StatusCode)
	}
	cancel() // as SIGTERM does
	if code := <-done; code != exitOK {
		t.Fatalf("collect exited %d:\n%s", code, errOut2.String())
	}
	logs := errOut2.String()
	for _, want := range []string{`"msg":"starting"`, `"site":"shop"`, `"msg":"shutting down: draining"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "the-ingest-key") {
		t.Error("the logs show the ingest key")
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if evs, err := st.Recent(context.Background(), "shop", 5); err != nil || len(evs) != 1 {
		t.Errorf("stored %v, %v", evs, err)
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not ready: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStandaloneOnTheSamples runs what `make run` runs, on a free port.
func TestStandaloneOnTheSamples(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer // written by run's goroutine, read after it returns
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"standalone", "-f", "../../../config/samples/standalone", "--data", filepath.Join(t.TempDir(), "data"), "--listen", addr},
			&env{stdout: &out, stderr: &errOut, getenv: func(k string) string {
				return map[string]string{"TRACKSTACK_ADMIN_PASSWORD": "correct horse battery staple"}[k]
			}})
	}()
	waitReady(t, "http://"+addr)
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/sites/demo/events", nil)
	req.SetBasicAuth("admin", "correct horse battery staple")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("events API: %d", res.StatusCode)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d:\n%s", code, errOut.String())
	}
	for _, want := range []string{"trackstack standalone: 1 site", `<script defer src="http://` + addr + `/_ts/t.js" data-site="demo"></script>`, "ingest key of site demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "battery") || strings.Contains(errOut.String(), "battery") {
		t.Error("the admin password from the environment is shown")
	}
}

// TestStandaloneRefusesWeakSecrets: a weak password or ingest key from the
// environment stops the start with exit code 2 and says what to do.
func TestStandaloneRefusesWeakSecrets(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"TRACKSTACK_ADMIN_PASSWORD", "tiny-pw"},
		{"TRACKSTACK_ADMIN_PASSWORD", "aaaaaaaaaaaaaaaaaaaa"},
		{"TRACKSTACK_INGEST_KEY", "short-key"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"standalone", "-f", "../../../config/samples/standalone", "--data", t.TempDir(), "--listen", freeAddr(t)},
				&env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return map[string]string{tc.name: tc.value}[k] }})
			if code != exitUsage {
				t.Fatalf("exit %d, want %d:\n%s", code, exitUsage, errOut.String())
			}
			if msg := errOut.String(); !strings.Contains(msg, tc.name+" is too weak") || !strings.Contains(msg, "at least 12 characters") {
				t.Errorf("message does not say what to fix: %s", msg)
			}
			if strings.Contains(errOut.String(), tc.value) {
				t.Error("the rejected secret is echoed")
			}
		})
	}
}
