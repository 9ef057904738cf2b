package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
)

func TestHealthReadyMetrics(t *testing.T) {
	var readyErr error
	h := newHarness(t, func(o *Options) {
		o.Ready = func(context.Context) error { return readyErr }
	})
	if rec := h.do(http.MethodGet, "/healthz", nil); rec.Code != http.StatusOK {
		t.Fatalf("healthz %d", rec.Code)
	}
	if rec := h.do(http.MethodGet, "/readyz", nil); rec.Code != http.StatusOK {
		t.Fatalf("readyz %d", rec.Code)
	}
	readyErr = errors.New("store down")
	if rec := h.do(http.MethodGet, "/readyz", nil); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while not ready: %d", rec.Code)
	}
	if rec := h.do(http.MethodGet, "/healthz", nil); rec.Code != http.StatusOK {
		t.Fatalf("healthz must not depend on readiness: %d", rec.Code)
	}
	readyErr = nil
	h.c.Drain()
	if rec := h.do(http.MethodGet, "/readyz", nil); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d", rec.Code)
	}

	decodeResult(t, h.postBatch(batchBody("shop", browserEvent("m-1", testNow), browserEvent("m-2", testNow))))
	rec := h.do(http.MethodGet, "/metrics", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics %d", rec.Code)
	}
	text := rec.Body.String()
	for _, want := range []string{
		`trackstack_ingest_events_accepted_total{site="shop",source="browser"} 2`,
		`trackstack_ingest_events_rejected_total{reason="bot",site="shop",source="browser"} 0`,
		`trackstack_ingest_requests_total{code="200",source="browser"} 1`,
		`trackstack_ingest_batch_size_bucket{source="browser",le="2"} 1`,
		`trackstack_ingest_write_duration_seconds_count{source="browser"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Client input never becomes a label.
	h.postBatch(batchBody("attacker-chosen-site", browserEvent("m-3", testNow)))
	if strings.Contains(h.do(http.MethodGet, "/metrics", nil).Body.String(), "attacker-chosen-site") {
		t.Error("an unknown site name became a metric label")
	}
}

func TestScriptIsDelegated(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/_ts/t.js", "/_ts/x.js?v=1", "/_ts/tcf.js", "/_ts/t.js?site=shop"} {
		rec := h.do(http.MethodGet, p, nil)
		if rec.Code != http.StatusOK || rec.Body.String() != "/*tracker*/" {
			t.Errorf("%s: %d %q", p, rec.Code, rec.Body)
		}
	}
	if rec := h.do(http.MethodPost, "/_ts/t.js", nil); rec.Code != http.StatusNotFound {
		t.Errorf("POST t.js: %d", rec.Code)
	}
	if rec := h.do(http.MethodGet, "/elsewhere/t.js", nil); rec.Code != http.StatusNotFound {
		t.Errorf("t.js outside a tracker path: %d", rec.Code)
	}
	h = newHarness(t, func(o *Options) { o.Script = nil })
	if rec := h.do(http.MethodGet, "/_ts/t.js", nil); rec.Code != http.StatusNotFound {
		t.Errorf("without a script server: %d", rec.Code)
	}
}

func TestSitesOnTheirOwnPaths(t *testing.T) {
	blog := testSite("blog", func(c *config.Runtime) { c.Tracker.Path = "/stats/" })
	h := newHarness(t, withSites(testSite("shop"), blog))
	rec := h.do(http.MethodPost, "/stats/e", batchBody("blog", browserEvent("b-1", testNow)), withHeader("Origin", "https://blog.example.com"))
	if decodeResult(t, rec).Accepted != 1 {
		t.Fatalf("blog on its path: %s", rec.Body)
	}
	// A site is not reachable under another site's path.
	rec = h.do(http.MethodPost, "/_ts/e", batchBody("blog", browserEvent("b-2", testNow)))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("blog under shop's path: %d", rec.Code)
	}
	// Reload: blog goes away, shop stays.
	if err := h.c.SetSites([]Site{testSite("shop")}); err != nil {
		t.Fatal(err)
	}
	if rec := h.do(http.MethodPost, "/stats/e", batchBody("blog", browserEvent("b-3", testNow))); rec.Code != http.StatusNotFound {
		t.Fatalf("removed site still served: %d", rec.Code)
	}
	if rec := h.postBatch(batchBody("shop", browserEvent("s-1", testNow))); rec.Code != http.StatusOK {
		t.Fatalf("shop after reload: %d", rec.Code)
	}
	if m := h.do(http.MethodGet, "/metrics", nil).Body.String(); strings.Contains(m, `site="blog"`) {
		t.Error("metrics of the removed site remain")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	noSalt := testSite("shop")
	noSalt.VisitorSalt = nil
	badPath := testSite("shop", func(c *config.Runtime) { c.Tracker.Path = "ts" })
	tests := []struct {
		name string
		o    Options
	}{
		{"no writer", Options{Sites: []Site{testSite("shop")}}},
		{"no salt", Options{Writer: &memWriter{}, Sites: []Site{noSalt}}},
		{"bad path", Options{Writer: &memWriter{}, Sites: []Site{badPath}}},
		{"duplicate site", Options{Writer: &memWriter{}, Sites: []Site{testSite("shop"), testSite("shop")}}},
		{"no config", Options{Writer: &memWriter{}, Sites: []Site{{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.o); err == nil {
				t.Fatal("New accepted bad options")
			}
		})
	}
}

func TestLoadSiteKeys(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]string{config.KeyIngest: "k-ingest\n", config.KeySigning: "k-sign", config.KeyVisitorSalt: " k-salt "} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	site := testSite("shop")
	site.IngestKey, site.SigningKey, site.VisitorSalt = nil, []byte("injected"), nil
	site.Config.Site.KeysDir = dir
	got, err := LoadSiteKeys(site)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.IngestKey) != "k-ingest" || string(got.SigningKey) != "injected" || string(got.VisitorSalt) != "k-salt" {
		t.Fatalf("keys %q %q %q", got.IngestKey, got.SigningKey, got.VisitorSalt)
	}
	// Missing files leave keys empty.
	empty := testSite("shop")
	empty.IngestKey, empty.SigningKey, empty.VisitorSalt = nil, nil, nil
	empty.Config.Site.KeysDir = t.TempDir()
	if got, err := LoadSiteKeys(empty); err != nil || got.IngestKey != nil {
		t.Fatalf("missing files: %v %q", err, got.IngestKey)
	}
	// A key path that cannot be read is an error.
	bad := testSite("shop")
	bad.IngestKey = nil
	bad.Config.Site.KeysDir = filepath.Join(dir, config.KeyIngest) // a file, not a directory
	if _, err := LoadSiteKeys(bad); err == nil {
		t.Fatal("unreadable key dir accepted")
	}
}

// TestSlowBodyTimesOut runs a real server: a client that starts a body and
// stalls gets 408 once BodyTimeout passes, instead of holding the handler.
func TestSlowBodyTimesOut(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.BodyTimeout = 100 * time.Millisecond })
	srv := httptest.NewServer(h.c)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /_ts/e HTTP/1.1\r\nHost: shop.example.com\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n{\"site\":")
	// No more bytes are sent; the server must answer on its own.
	if err := conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
}

func TestContentLengthOverLimitIsRefusedUnread(t *testing.T) {
	h := newHarness(t)
	r := httptest.NewRequest(http.MethodPost, "/_ts/e", strings.NewReader("{}"))
	r.ContentLength = MaxBrowserBody + 1
	rec := httptest.NewRecorder()
	h.c.ServeHTTP(rec, r)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", rec.Code)
	}
}

// TestConcurrentRequests exercises the shared state (sessions, limiters,
// pools, caches) from many goroutines; run with -race.
func TestConcurrentRequests(t *testing.T) {
	l := DefaultLimits()
	l.IPRequestsPerSecond, l.BotEventsPerSecond = 0, 0
	h := newHarness(t, withLimits(l), withSites(testSite("shop"), testSite("blog")))
	const workers, perWorker = 8, 25
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d-%d", w, i)
				var rec *httptest.ResponseRecorder
				switch i % 3 {
				case 0:
					rec = h.postBatch(batchBody("shop", browserEvent(id+"a", testNow), browserEvent(id+"b", testNow)),
						withRemote(fmt.Sprintf("198.51.100.%d:1", w)))
				case 1:
					rec = h.postBatch(batchBody("blog", browserEvent(id, testNow)), withHeader("Origin", "https://blog.example.com"))
				default:
					rec = h.postServer(batchBody("shop", serverEvent(id, testNow)))
				}
				if rec.Code != http.StatusOK {
					errs <- fmt.Errorf("%s: status %d: %s", id, rec.Code, rec.Body)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Per worker: 9 two-event shop batches, 8 blog events, 8 server events.
	if got, want := len(h.w.stored()), workers*(9*2+8+8); got != want {
		t.Fatalf("stored %d events, want %d", got, want)
	}
}
