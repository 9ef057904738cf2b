package collect

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/ingest"
	"github.com/trackstack/trackstack/runtime/store"
)

// fullDisk is a real SQLite store whose writes fail, while full is set, the
// way a full disk's do once the store has classified them.
type fullDisk struct {
	store.Store
	full atomic.Bool
}

func (d *fullDisk) Insert(ctx context.Context, evs []event.Event) (int, error) {
	if d.full.Load() {
		return 0, fmt.Errorf("%w: database or disk is full (13)", store.ErrUnavailable)
	}
	return d.Store.Insert(ctx, evs)
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestFullDiskAnswers503AndFailsReadiness: a write failure a retry can fix
// answers 503 with Retry-After, and /readyz fails until writes work again.
func TestFullDiskAnswers503AndFailsReadiness(t *testing.T) {
	disk := &fullDisk{Store: openSQLite(t)}
	clock := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	c, err := New(Options{Store: disk, Sites: []ingest.Site{site("shop", "/_ts")}, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	post := func() *httptest.ResponseRecorder {
		n++
		body := fmt.Sprintf(`{"site":"shop","events":[{"event_id":"sale-%d","type":"conversion","name":"purchase","timestamp":%q,"value":10}]}`,
			n, clock.now().Format(time.RFC3339))
		r := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewBufferString(body))
		r.Header.Set("Authorization", "Bearer key-shop")
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, r)
		return rec
	}
	ready := func() int {
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code
	}

	if rec := post(); rec.Code != http.StatusOK || ready() != http.StatusOK {
		t.Fatalf("healthy store: post %d %s, readyz %d", rec.Code, rec.Body, ready())
	}
	disk.full.Store(true)
	rec := post()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("full disk: %d Retry-After %q %s; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if s := ready(); s != http.StatusServiceUnavailable {
		t.Fatalf("readyz while writes fail: %d, want 503", s)
	}
	// Still full once the hold is over: ready again, so traffic can show
	// whether writes work, and the next failure makes it unready again.
	clock.add(writeFailureHold)
	if s := ready(); s != http.StatusOK {
		t.Fatalf("readyz after the hold: %d, want 200", s)
	}
	post()
	if s := ready(); s != http.StatusServiceUnavailable {
		t.Fatalf("readyz after another failed write: %d, want 503", s)
	}
	// Room again: the first successful write makes it ready at once.
	disk.full.Store(false)
	if rec := post(); rec.Code != http.StatusOK {
		t.Fatalf("after the disk has room: %d %s", rec.Code, rec.Body)
	}
	if s := ready(); s != http.StatusOK {
		t.Fatalf("readyz after a successful write: %d, want 200", s)
	}
}
