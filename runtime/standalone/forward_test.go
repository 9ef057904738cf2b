package standalone

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/meta/metafake"
)

// forwardFiles writes a site with a Meta Destination sending to endpoint.
func forwardFiles(t *testing.T, dir, endpoint string, paused bool) []string {
	t.Helper()
	files := fmt.Sprintf(`apiVersion: trackstack.dev/v1alpha1
kind: TrackingSite
metadata: {name: shop}
spec:
  domains: [shop.example.com]
---
apiVersion: trackstack.dev/v1alpha1
kind: Destination
metadata: {name: meta}
spec:
  siteRef: {name: shop}
  type: meta
  credentialsSecretRef: {name: meta-capi}
  meta: {pixelID: "1234567890", endpoint: %q}
  paused: %t
---
apiVersion: v1
kind: Secret
metadata: {name: meta-capi}
stringData: {accessToken: standalone-test-token}
`, endpoint, paused)
	path := filepath.Join(dir, "stack.yaml")
	if err := os.WriteFile(path, []byte(files), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{path}
}

func startForwarding(t *testing.T, files []string, data string) *Server {
	t.Helper()
	s, err := New(context.Background(), Options{
		Files: files, DataDir: data, Listen: "127.0.0.1:0", Getenv: noEnv,
		TuneForwarders: func(o *forward.Options) { o.PollInterval, o.MaxWait = 10*time.Millisecond, 10*time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitEvents waits until the fake received n events.
func waitEvents(t *testing.T, f *metafake.Fake, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(f.Events()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the platform received %d events, want %d", len(f.Events()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStandaloneForwards: standalone runs the Destinations' forwarders in
// process; a paused one sends nothing and keeps its place, and once
// resumed it sends what arrived meanwhile.
func TestStandaloneForwards(t *testing.T) {
	fake := metafake.New("1234567890", "standalone-test-token")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")

	s := startForwarding(t, forwardFiles(t, dir, srv.URL, false), data)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	auth := map[string]string{"Authorization": "Bearer " + string(s.Keys().Sites["shop"].Ingest)}
	purchase := func(u, id string) {
		body := fmt.Sprintf(`{"site": "shop", "events": [{"event_id": %q, "type": "conversion", "name": "purchase", "timestamp": %q,
		  "value": 10, "currency": "EUR", "url": "https://shop.example.com/done", "user": {"ip": "198.51.100.7", "user_agent": "Mozilla/5.0 test"}}]}`,
			id, time.Now().UTC().Format(time.RFC3339))
		if code, resp := do(t, "POST", u+"/v1/events", body, auth); code != 200 {
			t.Fatalf("posting %s: %d %s", id, code, resp)
		}
	}
	purchase(s.URL(), "live-1")
	waitEvents(t, fake, 1)
	if got := fake.Events()[0]; got.EventID != "live-1" || got.UserData.ClientIPAddress != "198.51.100.7" {
		t.Fatalf("Meta got %+v; want live-1 with the visitor's real IP (sealed at ingest, opened by the forwarder)", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Paused: no engine runs, events still arrive.
	s = startForwarding(t, forwardFiles(t, dir, srv.URL, true), data)
	if len(s.forward.engines) != 0 {
		t.Fatalf("%d engines for a paused destination", len(s.forward.engines))
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- s.Run(ctx) }()
	purchase(s.URL(), "while-paused")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Events()); n != 1 {
		t.Fatalf("a paused destination sent: %d events", n)
	}

	// Resumed: the backlog goes out.
	s = startForwarding(t, forwardFiles(t, dir, srv.URL, false), data)
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- s.Run(ctx) }()
	waitEvents(t, fake, 2)
	if got := fake.Events()[1].EventID; got != "while-paused" {
		t.Fatalf("after resuming Meta got %s, want while-paused", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestDemoDataOnFirstStartOnly: with DemoData, an empty data directory
// gets a month of demo traffic for the first site, once; without it,
// nothing is generated.
func TestDemoDataOnFirstStartOnly(t *testing.T) {
	dir := t.TempDir()
	count := func(s *Server) int {
		t.Helper()
		evs, err := s.store.Recent(context.Background(), "shop", 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	start := func(data string, demo bool) *Server {
		t.Helper()
		s, err := New(context.Background(), Options{Files: []string{"testdata/ok"}, DataDir: data, Listen: "127.0.0.1:0", Getenv: noEnv, DemoData: demo})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	plain := start(filepath.Join(dir, "plain"), false)
	if n := count(plain); n != 0 || len(plain.demoSites) != 0 {
		t.Fatalf("without DemoData: %d events, demo sites %v", n, plain.demoSites)
	}
	plain.Close()

	data := filepath.Join(dir, "demo")
	s := start(data, true)
	first := count(s)
	if first < 1000 || len(s.demoSites) != 1 || s.demoSites[0] != "shop" {
		t.Fatalf("first start: %d events, demo sites %v; want a month for shop", first, s.demoSites)
	}
	s.Close()
	s = start(data, true)
	defer s.Close()
	if n := count(s); n != first || len(s.demoSites) != 1 {
		t.Fatalf("second start: %d events (first %d), demo sites %v; want nothing new, still labelled", n, first, s.demoSites)
	}
}
