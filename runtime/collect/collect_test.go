package collect

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/service"
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
	st, err := service.OpenStore(context.Background(), config.Storage{Driver: config.DriverSQLite, SQLitePath: filepath.Join(t.TempDir(), "sub", "db.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := service.Migrate(context.Background(), st, nil); err != nil {
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
