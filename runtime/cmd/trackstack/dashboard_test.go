package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// TestDashboardAuditsSignIns runs `trackstack dashboard` in process on
// SQLite: a wrong basic-auth password is stored in the audit log and the
// audit report lists it, without the password tried.
func TestDashboardAuditsSignIns(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "etc/trackstack/config/config.yaml"), sqliteConfig("shop"))
	const password, wrong = "the admin password", "a-wrong-Password-tried"
	writeFile(t, filepath.Join(root, "etc/trackstack/keys", config.KeyAdminPassword), password+"\n")
	writeFile(t, filepath.Join(root, "etc/trackstack/keys", config.KeySigning), "the signing key of the dashboard test")

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs bytes.Buffer // slog serializes writes; read after run returns
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"dashboard", "--listen", addr, "--insecure-cookies", "--config", "/etc/trackstack/config/config.yaml", "--root", root},
			&env{stdout: io.Discard, stderr: &logs, getenv: func(string) string { return "" }})
	}()
	base := "http://" + addr
	waitReady(t, base)
	get := func(path, pass string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.SetBasicAuth("admin", pass)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, _ := get("/api/v1/sites/shop/overview", wrong); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d, want 401", code)
	}
	code, body := get("/api/v1/sites/shop/audit", password)
	if code != http.StatusOK || !strings.Contains(body, `"actor":"admin","action":"sign_in_failed","detail":"basic"`) || strings.Contains(body, wrong) {
		t.Errorf("audit report: %d %s, want the failed sign-in without the password", code, body)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("dashboard exited %d:\n%s", code, logs.String())
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(root, "var/lib/trackstack/events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.ListAudit(context.Background(), "shop", 10)
	if err != nil || len(entries) != 1 || entries[0].Action != "sign_in_failed" || entries[0].Detail != "basic" {
		t.Errorf("stored audit log %+v, %v; want the one failed sign-in", entries, err)
	}
	if strings.Contains(logs.String(), wrong) || strings.Contains(logs.String(), password) {
		t.Error("the logs show a password")
	}
}
