package standalone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newServer(t *testing.T, getenv func(string) string) *Server {
	t.Helper()
	s, err := New(context.Background(), Options{
		Files: []string{"testdata/ok"}, DataDir: filepath.Join(t.TempDir(), "data"), Listen: "127.0.0.1:0",
		Getenv: getenv,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run serves s until the test ends and checks that it stops cleanly.
func run(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func do(t *testing.T, method, url string, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func serverEvent(site, id string) string {
	return fmt.Sprintf(`{"site": %q, "events": [{"event_id": %q, "type": "conversion", "name": "purchase", "timestamp": %q, "value": 10, "currency": "EUR"}]}`,
		site, id, time.Now().UTC().Format(time.RFC3339))
}

func TestServerEndToEnd(t *testing.T) {
	s := newServer(t, noEnv)
	run(t, s)
	u := s.URL()
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("URL %q", u)
	}
	shop := s.Keys().Sites["shop"]
	auth := map[string]string{"Authorization": "Bearer " + string(shop.Ingest)}
	if code, body := do(t, "POST", u+"/v1/events", serverEvent("shop", "o-1"), auth); code != 200 || !strings.Contains(body, `"accepted":1`) {
		t.Fatalf("server event: %d %s", code, body)
	}
	// A browser batch from the demo page's origin (the listen host, which
	// standalone adds to the site's domains).
	batch := `{"site": "blog", "events": [{"event_id": "b-1", "type": "pageview", "ts": ` + fmt.Sprint(time.Now().UnixMilli()) +
		`, "url": "` + u + `/try/blog/?utm_source=google&utm_medium=cpc&gclid=abc", "utm": {"source": "google", "medium": "cpc"}, "click_ids": {"gclid": "abc"},` +
		` "consent": {"analytics_storage": "granted"}, "scripted": true}]}`
	browser := map[string]string{"Origin": u, "Content-Type": "text/plain",
		"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}
	if code, body := do(t, "POST", u+"/_blog/e", batch, browser); code != 200 || !strings.Contains(body, `"accepted":1`) {
		t.Fatalf("browser batch: %d %s", code, body)
	}
	browser["Origin"] = "https://evil.example.net"
	if code, _ := do(t, "POST", u+"/_blog/e", batch, browser); code != http.StatusForbidden {
		t.Errorf("browser batch from another origin: %d", code)
	}

	admin := map[string]string{"Authorization": "Basic " + basic("admin", string(s.Keys().AdminPassword))}
	code, body := do(t, "GET", u+"/api/v1/sites/blog/events", "", admin)
	var evs []apiEvent
	if err := json.Unmarshal([]byte(body), &evs); code != 200 || err != nil || len(evs) != 1 {
		t.Fatalf("events of blog: %d %s %v", code, body, err)
	}
	if e := evs[0]; e.EventID != "b-1" || e.Channel != "paid_search" || e.ClickIDs["gclid"] != "abc" || e.IP != "127.0.0.0" || e.VisitorID == "" {
		t.Errorf("stored browser event %+v", e)
	}

	for path, want := range map[string]string{
		"/":               `data-site="shop"`,
		"/try/blog/":      `src="` + u + `/_blog/t.js" data-site="blog"`,
		"/_ts/t.js":       `"s":"shop"`,
		"/_blog/t.js":     `"s":"blog"`,
		"/healthz":        "ok",
		"/readyz":         "ready",
		"/demo/welcome":   `data-base="/"`,
		"/try/blog/demo/": `data-base="/try/blog/"`,
	} {
		if code, body := do(t, "GET", u+path, "", nil); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want %s in %.200s", path, code, want, body)
		}
	}

	out := s.Banner()
	for _, want := range []string{
		`<script defer src="` + u + `/_ts/t.js" data-site="shop"></script>`,
		"curl -u admin:", u + "/api/v1/sites/blog/events?limit=10", u + "/metrics",
		string(shop.Ingest), string(s.Keys().AdminPassword), // generated now: shown once
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, string(shop.Signing)) || strings.Contains(out, string(shop.VisitorSalt)) {
		t.Error("the banner shows the signing key or salt")
	}
}

// TestMetricsNeedAdmin: /metrics names the sites and counts their events,
// and standalone serves it on the listener of the public endpoints, so only
// the admin may read it.
func TestMetricsNeedAdmin(t *testing.T) {
	s := newServer(t, noEnv)
	run(t, s)
	password := string(s.Keys().AdminPassword)
	for _, tc := range []struct {
		name, method, user, pass string
		status                   int
	}{
		{"no credentials", "GET", "", "", http.StatusUnauthorized},
		{"wrong password", "GET", "admin", password + "x", http.StatusUnauthorized},
		{"wrong user", "GET", "root", password, http.StatusUnauthorized},
		{"another method without credentials", "POST", "", "", http.StatusUnauthorized},
		{"admin", "GET", "admin", password, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := map[string]string{}
			if tc.user != "" {
				header["Authorization"] = "Basic " + basic(tc.user, tc.pass)
			}
			code, body := do(t, tc.method, s.URL()+"/metrics", "", header)
			if code != tc.status {
				t.Fatalf("%s /metrics: %d, want %d: %.200s", tc.method, code, tc.status, body)
			}
			if has := strings.Contains(body, "trackstack_ingest_events_accepted_total"); has != (code == http.StatusOK) {
				t.Errorf("%s /metrics answered %d with the metrics %v: %.200s", tc.method, code, has, body)
			}
		})
	}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// TestRestartKeepsKeysAndEvents restarts on the same data directory: keys
// are not shown again and the events are still there.
func TestRestartKeepsKeysAndEvents(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	start := func() *Server {
		s, err := New(context.Background(), Options{Files: []string{"testdata/ok"}, DataDir: data, Listen: "127.0.0.1:0", Getenv: noEnv})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	key := s.Keys().Sites["shop"].Ingest
	if code, body := do(t, "POST", s.URL()+"/v1/events", serverEvent("shop", "o-1"), map[string]string{"Authorization": "Bearer " + string(key)}); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	s2 := start()
	run(t, s2)
	if string(s2.Keys().Sites["shop"].Ingest) != string(key) {
		t.Error("the ingest key changed across restarts")
	}
	if b := s2.Banner(); strings.Contains(b, string(key)) || strings.Contains(b, string(s2.Keys().AdminPassword)) {
		t.Error("the second start shows the keys again")
	}
	admin := map[string]string{"Authorization": "Basic " + basic("admin", string(s2.Keys().AdminPassword))}
	if code, body := do(t, "GET", s2.URL()+"/api/v1/sites/shop/events", "", admin); code != 200 || !strings.Contains(body, `"o-1"`) {
		t.Errorf("after restart: %d %s", code, body)
	}
}

// TestIngestKeyFromEnvironment: one key for every site.
func TestIngestKeyFromEnvironment(t *testing.T) {
	s := newServer(t, env(map[string]string{EnvIngestKey: "the-ingest-key-from-env", EnvAdminPassword: "the-password-from-env"}))
	run(t, s)
	for _, site := range []string{"shop", "blog", "shop", "blog", "shop", "blog"} {
		code, body := do(t, "POST", s.URL()+"/v1/events", serverEvent(site, "o-"+site+fmt.Sprint(time.Now().UnixNano())), map[string]string{"Authorization": "Bearer the-ingest-key-from-env"})
		if code != 200 {
			t.Errorf("site %s: %d %s", site, code, body)
		}
	}
	if code, _ := do(t, "GET", s.URL()+"/api/v1/sites/shop/events", "", map[string]string{"Authorization": "Basic " + basic("admin", "the-password-from-env")}); code != 200 {
		t.Errorf("events API with the password from the environment: %d", code)
	}
	if out := s.Banner(); strings.Contains(out, "the-ingest-key-from-env") || strings.Contains(out, "the-password-from-env") || !strings.Contains(out, "$"+EnvIngestKey) {
		t.Errorf("banner:\n%s", out)
	}
}

func TestNewRefusesBadFilesAndTakenPorts(t *testing.T) {
	_, err := New(context.Background(), Options{Files: []string{"testdata/nope"}, DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if !errors.Is(err, ErrConfig) {
		t.Errorf("missing files: %v", err)
	}
	s := newServer(t, noEnv)
	defer s.Close()
	addr := strings.TrimPrefix(s.URL(), "http://")
	_, err = New(context.Background(), Options{Files: []string{"testdata/ok"}, DataDir: t.TempDir(), Listen: addr})
	if err == nil || errors.Is(err, ErrConfig) {
		t.Errorf("port taken: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.opts.DataDir, databaseFile)); err != nil {
		t.Errorf("database: %v", err)
	}
}
