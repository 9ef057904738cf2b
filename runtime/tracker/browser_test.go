package tracker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trackstack/trackstack/runtime/internal/browsertest"
)

// The browser tests run the served t.js in Chromium against site serving
// testdata/*.html, the tracker files from a Handler, and a fake browser
// endpoint that decodes batches as docs/tracker-protocol.md defines them.

// batch and wireEvent are the protocol's batch body; decoding rejects any
// field the protocol does not define.
type batch struct {
	Site   string      `json:"site"`
	Events []wireEvent `json:"events"`
}

type wireEvent struct {
	EventID  string            `json:"event_id"`
	Type     string            `json:"type"`
	Name     string            `json:"name"`
	TS       int64             `json:"ts"`
	URL      string            `json:"url"`
	Referrer string            `json:"referrer"`
	Title    string            `json:"title"`
	Screen   string            `json:"screen"`
	Lang     string            `json:"lang"`
	UTM      map[string]string `json:"utm"`
	ClickIDs map[string]string `json:"click_ids"`
	Cookies  map[string]string `json:"cookies"`
	Consent  map[string]string `json:"consent"`
	Props    map[string]any    `json:"props"`
	Value    *float64          `json:"value"`
	Currency string            `json:"currency"`
	OrderID  string            `json:"order_id"`
	UserID   string            `json:"user_id"`
	User     map[string]string `json:"user"`
	Scripted bool              `json:"scripted"`
}

// recorder is the fake browser endpoint.
type recorder struct {
	t      *testing.T
	mu     sync.Mutex
	events []wireEvent
	bodies [][]byte
	seen   map[string]int
	change chan struct{} // closed and replaced on every batch
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, seen: map[string]int{}, change: make(chan struct{})}
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b batch
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	switch {
	case r.Method != http.MethodPost:
		rec.t.Errorf("endpoint got %s", r.Method)
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain"):
		rec.t.Errorf("endpoint got Content-Type %q, want text/plain", r.Header.Get("Content-Type"))
	case dec.Decode(&b) != nil:
		rec.t.Errorf("endpoint got a body outside the protocol: %s", body)
	case len(b.Events) == 0 || len(b.Events) > 50 || len(body) > 64<<10:
		rec.t.Errorf("endpoint got %d events in %d bytes", len(b.Events), len(body))
	}
	rec.mu.Lock()
	rec.bodies = append(rec.bodies, body)
	for _, e := range b.Events {
		if b.Site == "" {
			rec.t.Errorf("batch without site: %s", body)
		}
		rec.seen[e.EventID]++
		rec.events = append(rec.events, e)
	}
	close(rec.change)
	rec.change = make(chan struct{})
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"accepted":%d,"duplicates":0,"rejected":[]}`, len(b.Events))
}

// waitFor waits until the events received so far satisfy done, and returns
// them. The deadline only keeps a broken tracker from hanging the test.
func (rec *recorder) waitFor(what string, done func([]wireEvent) bool) []wireEvent {
	rec.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		rec.mu.Lock()
		evs, change := append([]wireEvent(nil), rec.events...), rec.change
		rec.mu.Unlock()
		if done(evs) {
			return evs
		}
		select {
		case <-change:
		case <-deadline:
			rec.t.Fatalf("no %s; events so far: %s", what, describe(evs))
		}
	}
}

// waitEvent waits for the first event of that type and name.
func (rec *recorder) waitEvent(typ, name string) wireEvent {
	rec.t.Helper()
	var found wireEvent
	rec.waitFor(typ+" "+name, func(evs []wireEvent) bool {
		for _, e := range evs {
			if e.Type == typ && e.Name == name {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// count is how many events of that type arrived so far.
func (rec *recorder) count(typ string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, e := range rec.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func (rec *recorder) all() []wireEvent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]wireEvent(nil), rec.events...)
}

// checkOnce fails the test for any event received more than once.
func (rec *recorder) checkOnce() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for id, n := range rec.seen {
		if n != 1 {
			rec.t.Errorf("event %s arrived %d times", id, n)
		}
	}
}

// rawBodies is every request body received, for checks on what left the page.
func (rec *recorder) rawBodies() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return string(bytes.Join(rec.bodies, []byte("\n")))
}

func describe(evs []wireEvent) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type+"/"+e.Name+" "+e.URL)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// site is a test web site whose pages carry the snippet for cfg.
type site struct {
	*httptest.Server
	rec *recorder
}

func newSite(t *testing.T, cfg ScriptConfig) *site {
	t.Helper()
	rec := newRecorder(t)
	h := NewHandler(cfg)
	mux := http.NewServeMux()
	for _, f := range []string{"t.js", "x.js", "tcf.js", "h.js"} {
		mux.Handle("GET /_ts/"+f, h)
	}
	mux.Handle("/_ts/e", rec)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// /shop and /shop/... are the shop page (SPA routes), /thanks, ...
		name := strings.SplitN(strings.Trim(r.URL.Path, "/"), "/", 2)[0]
		page, err := os.ReadFile(filepath.Join("testdata", filepath.Base(name)+".html"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page) //nolint:errcheck // test server
	})
	s := &site{Server: httptest.NewServer(mux), rec: rec}
	t.Cleanup(s.Close)
	t.Cleanup(rec.checkOnce)
	return s
}

// browser is shared by the browser tests of this package.
func browser(t *testing.T) *browsertest.Browser {
	t.Helper()
	return browsertest.Start(t)
}

// open loads a page in a new tab and returns the tab.
func open(t *testing.T, b *browsertest.Browser, url string) *browsertest.Tab {
	t.Helper()
	tab := b.Tab(t)
	t.Cleanup(func() {
		for _, l := range tab.Logs() {
			t.Logf("page: %s", l)
		}
	})
	if err := chromedp.Do(tab.Ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	return tab
}

// eval runs JavaScript in the tab and returns its value.
func eval[T any](t *testing.T, tab *browsertest.Tab, js string) T {
	t.Helper()
	v, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// poll waits until a JavaScript expression is true in the tab.
func poll(t *testing.T, tab *browsertest.Tab, js string) {
	t.Helper()
	if _, err := chromedp.Run(tab.Ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", js, err)
	}
}

func click(t *testing.T, tab *browsertest.Tab, id string) {
	t.Helper()
	if err := chromedp.Do(tab.Ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		t.Fatalf("clicking #%s: %v", id, err)
	}
}
