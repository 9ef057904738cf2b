package collect

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/store"
)

func site(name, path string) ingest.Site {
	return ingest.Site{
		Config: &config.Runtime{
			APIVersion: config.APIVersion, Kind: config.Kind,
			Site:    config.Site{Name: name, Domains: []string{name + ".example.com"}},
			Tracker: config.Tracker{Path: path, ConsentMode: "none", Autocapture: config.Autocapture{Clicks: true}},
			Privacy: config.Privacy{IPAnonymization: "truncate"},
		},
		IngestKey:   []byte("key-" + name),
		VisitorSalt: []byte("salt-" + name),
	}
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := OpenStore(context.Background(), config.Storage{Driver: config.DriverSQLite, SQLitePath: filepath.Join(t.TempDir(), "sub", "db.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := Migrate(context.Background(), st, nil); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCollectorStoresAndServesScripts(t *testing.T) {
	st := openSQLite(t)
	c, err := New(Options{Store: st, Sites: []ingest.Site{site("shop", "/_ts"), site("blog", "/_b"), site("wiki", "/_b")}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()

	body := `{"site": "shop", "events": [{"event_id": "o-1", "type": "conversion", "name": "purchase", "timestamp": "` +
		time.Now().UTC().Format(time.RFC3339) + `", "value": 5, "currency": "EUR"}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer key-shop")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(got), `"accepted":1`) {
		t.Fatalf("POST /v1/events: %d %s", res.StatusCode, got)
	}
	evs, err := st.Recent(context.Background(), "shop", 10)
	if err != nil || len(evs) != 1 || evs[0].EventID != "o-1" || evs[0].Type != event.TypeConversion {
		t.Fatalf("stored %+v, %v", evs, err)
	}

	for _, tc := range []struct {
		path string
		want int
		site string // in the served script's settings
	}{
		{"/_ts/t.js", http.StatusOK, "shop"},          // the only site on its path
		{"/_b/t.js?site=wiki", http.StatusOK, "wiki"}, // shared path: ?site= picks
		{"/_b/t.js", http.StatusNotFound, ""},         // shared path, no ?site=
		{"/_ts/t.js?site=nope", http.StatusNotFound, ""},
		{"/_ts/nothing.js", http.StatusNotFound, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if tc.site != "" && !strings.Contains(string(js), `"s":"`+tc.site+`"`) {
				t.Errorf("script lacks the settings of site %s", tc.site)
			}
		})
	}

	res, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, m := range []string{"trackstack_store_flushes_total{result=\"ok\"} 1", "trackstack_store_queued_events 0", "go_goroutines", "trackstack_ingest_events_accepted_total"} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadyzNeedsReadyAndStore(t *testing.T) {
	st := openSQLite(t)
	var ready atomic.Bool
	c, err := New(Options{Store: st, Sites: []ingest.Site{site("shop", "/_ts")}, Ready: func(context.Context) error {
		if !ready.Load() {
			return errors.New("not yet")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	status := func() int {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code
	}
	if s := status(); s != http.StatusServiceUnavailable {
		t.Errorf("before Ready passes: %d", s)
	}
	ready.Store(true)
	if s := status(); s != http.StatusOK {
		t.Errorf("ready: %d", s)
	}
	c.Drain()
	if s := status(); s != http.StatusServiceUnavailable {
		t.Errorf("draining: %d", s)
	}
}

// TestServeAnswersRequestsInFlight shuts the server down while a request
// is being handled: the request is answered, then Serve returns nil.
func TestServeAnswersRequestsInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ln, h, ServeOptions{Drain: func() { close(drained) }})
	}()
	answer := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answer <- string(b)
	}()
	<-entered
	cancel()
	<-drained
	close(release)
	if a := <-answer; a != "done" {
		t.Errorf("request in flight got %q", a)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

func TestOpenStoreErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	secret := filepath.Join(dir, "uri")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("postgres://u:s3cret-pw@host:bad-port/db"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    config.Storage
		want string
	}{
		{"missing dsn file", config.Storage{Driver: config.DriverPostgres, DSNFile: filepath.Join(dir, "nope")}, "reading the PostgreSQL URI"},
		{"empty dsn file", config.Storage{Driver: config.DriverPostgres, DSNFile: empty}, "is empty"},
		{"bad dsn", config.Storage{Driver: config.DriverPostgres, DSNFile: secret}, "URI from " + secret},
		{"unknown driver", config.Storage{Driver: "mysql"}, `"mysql" is not`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenStore(context.Background(), tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// flakyStore fails Migrate as unavailable a few times.
type flakyStore struct {
	store.Store
	failures int
	calls    int
	err      error
}

func (f *flakyStore) Migrate(context.Context) error {
	f.calls++
	if f.calls <= f.failures {
		return f.err
	}
	return nil
}

func TestMigrateRetriesOnlyWhileUnavailable(t *testing.T) {
	f := &flakyStore{failures: 1, err: store.ErrUnavailable}
	if err := Migrate(context.Background(), f, nil); err != nil || f.calls != 2 {
		t.Errorf("after an outage: %v, %d calls", err, f.calls)
	}
	f = &flakyStore{failures: 5, err: errors.New("syntax error")}
	if err := Migrate(context.Background(), f, nil); err == nil || f.calls != 1 {
		t.Errorf("a broken migration: %v, %d calls (want no retry)", err, f.calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f = &flakyStore{failures: 5, err: store.ErrUnavailable}
	if err := Migrate(ctx, f, nil); err == nil || f.calls != 1 {
		t.Errorf("with ctx done: %v, %d calls", err, f.calls)
	}
}
