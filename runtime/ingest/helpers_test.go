package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
)

const (
	testIngestKey = "ingest-key-shop-0123456789"
	testUA        = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	testOrigin    = "https://shop.example.com"
	testRemote    = "203.0.113.77:51234"
)

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// memWriter is a store fake: it dedups on (site, event_id) as the real store
// does, and can be told to fail.
type memWriter struct {
	mu     sync.Mutex
	seen   map[string]bool
	events []event.Event
	err    error
	calls  int
}

func (w *memWriter) Write(_ context.Context, evs []event.Event) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.err != nil {
		return 0, w.err
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	n := 0
	for _, e := range evs {
		k := e.Site + "\x00" + e.EventID
		if w.seen[k] {
			continue
		}
		w.seen[k] = true
		w.events = append(w.events, e)
		n++
	}
	return n, nil
}

// reset forgets everything stored.
func (w *memWriter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen, w.events = nil, nil
}

func (w *memWriter) stored() []event.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]event.Event(nil), w.events...)
}

// clock is a settable fixed clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func testSite(name string, mutate ...func(*config.Runtime)) Site {
	cfg := &config.Runtime{
		APIVersion: config.APIVersion,
		Kind:       config.Kind,
		Site:       config.Site{Name: name, Domains: []string{name + ".example.com"}},
		Tracker:    config.Tracker{Path: "/_ts", ConsentMode: "none"},
		Privacy:    config.Privacy{IPAnonymization: "truncate"},
	}
	for _, m := range mutate {
		m(cfg)
	}
	key := testIngestKey
	if name != "shop" {
		key = "ingest-key-" + name
	}
	return Site{Config: cfg, IngestKey: []byte(key), SigningKey: []byte("sign-" + name), VisitorSalt: []byte("salt-" + name)}
}

type harness struct {
	t      testing.TB
	c      *Collector
	w      *memWriter
	clock  *clock
	reg    *prometheus.Registry
	script http.Handler
}

type harnessOption func(*Options)

func withLimits(l Limits) harnessOption { return func(o *Options) { o.Limits = &l } }

func withSites(s ...Site) harnessOption { return func(o *Options) { o.Sites = s } }

// unlimited has no rate limits and no bot pace rule.
func unlimited() Limits { return Limits{} }

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, w: &memWriter{}, clock: &clock{t: testNow}, reg: prometheus.NewRegistry()}
	h.script = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, "/*tracker*/")
	})
	o := Options{
		Sites:    []Site{testSite("shop")},
		Writer:   h.w,
		Script:   h.script,
		Now:      h.clock.now,
		Registry: h.reg,
	}
	l := unlimited()
	o.Limits = &l
	for _, f := range opts {
		f(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.c = c
	return h
}

// browserEvent is one event of a browser batch as a map, so tests can
// change any field (or its type).
func browserEvent(id string, at time.Time) map[string]any {
	return map[string]any{
		"event_id":  id,
		"type":      "pageview",
		"name":      "pageview",
		"ts":        at.UnixMilli(),
		"url":       "https://shop.example.com/p?utm_source=google&gclid=abc",
		"referrer":  "https://www.google.com/",
		"screen":    "1920x1080",
		"lang":      "en-US",
		"utm":       map[string]any{"source": "google", "medium": "cpc", "campaign": "winter"},
		"click_ids": map[string]any{"gclid": "abc"},
		"consent":   map[string]any{"ad_storage": "granted", "analytics_storage": "granted"},
		"scripted":  true,
	}
}

func batchBody(site string, events ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"site": site, "events": events})
	if err != nil {
		panic(err)
	}
	return b
}

type reqOption func(*http.Request)

func withHeader(k, v string) reqOption { return func(r *http.Request) { r.Header.Set(k, v) } }

func withRemote(addr string) reqOption { return func(r *http.Request) { r.RemoteAddr = addr } }

func withCookie(c *http.Cookie) reqOption { return func(r *http.Request) { r.AddCookie(c) } }

func withHost(h string) reqOption { return func(r *http.Request) { r.Host = h } }

func (h *harness) do(method, target string, body []byte, opts ...reqOption) *httptest.ResponseRecorder {
	h.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, target, rd)
	r.RemoteAddr = testRemote
	r.Host = "shop.example.com"
	r.Header.Set("User-Agent", testUA)
	for _, o := range opts {
		o(r)
	}
	rec := httptest.NewRecorder()
	h.c.ServeHTTP(rec, r)
	return rec
}

// postBatch posts a browser batch from the site's origin.
func (h *harness) postBatch(body []byte, opts ...reqOption) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(http.MethodPost, "/_ts/e", body, append([]reqOption{withHeader("Origin", testOrigin), withHeader("Content-Type", "text/plain")}, opts...)...)
}

func (h *harness) postServer(body []byte, opts ...reqOption) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(http.MethodPost, "/v1/events", body, append([]reqOption{withHeader("Authorization", "Bearer "+testIngestKey), withHeader("Content-Type", "application/json")}, opts...)...)
}

func decodeResult(t *testing.T, rec *httptest.ResponseRecorder) result {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	var res result
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatalf("decoding response %q: %v", rec.Body, err)
	}
	return res
}

func errorMessage(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("decoding error body %q: %v", rec.Body, err)
	}
	return e.Error
}

// counter reads one series of a counter vector.
func counter(t *testing.T, h *harness, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
