package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Load shape: a few hundred events a second at most, far below the rate
// limits, so every answer other than 200 comes from the store's state.
const (
	loadClients   = 4
	loadPerClient = 20_000
	loadPause     = 5 * time.Millisecond
	// loadDuration bounds a load that nothing stops (a test that failed
	// before stopping it): the clients end by themselves after it.
	loadDuration = 3 * time.Minute
	// patience bounds every wait for something the processes should do by
	// themselves; it is a safety net with a message, not a timed assertion.
	patience = 2 * time.Minute
)

// serverLoad posts server events to a collector's /v1/events from a few
// concurrent clients, the way a backend does: one event per request, each
// with its own event_id; a 429 or 503 is retried with the same event after
// its Retry-After. An event counts as acknowledged when a 200 says it was
// accepted or already stored. A client ends when it has sent its events,
// when the load is stopped or lasted loadDuration, or at the first request
// that gets no answer (the collector is gone).
type serverLoad struct {
	url, bearer, site, prefix string
	client                    *http.Client
	stop                      chan struct{}
	stopOnce                  sync.Once
	done                      chan struct{}

	mu          sync.Mutex
	acked       []string
	duplicates  int      // acknowledged as already stored: a retry of a commit whose answer was lost
	unavailable int      // 503 answers with a Retry-After
	throttled   int      // 429 answers with a Retry-After
	unexpected  []string // any other answer, or a 429/503 without Retry-After
	noAnswer    []error  // requests that got no HTTP answer
	waiters     []ackWaiter
}

// ackWaiter is closed once n events are acknowledged.
type ackWaiter struct {
	n  int
	ch chan struct{}
}

// startServerLoad starts the clients; event ids start with prefix. Stop
// them with stopAndWait (also done when t ends).
func startServerLoad(t *testing.T, url, ingestKey, site, prefix string) *serverLoad {
	t.Helper()
	l := &serverLoad{
		url: url + "/v1/events", bearer: "Bearer " + ingestKey, site: site, prefix: prefix,
		client: &http.Client{
			Timeout:   time.Minute,
			Transport: &http.Transport{MaxIdleConnsPerHost: loadClients},
		},
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), loadDuration)
	var wg sync.WaitGroup
	for c := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(ctx, c)
		}()
	}
	go func() {
		wg.Wait()
		cancel()
		l.client.CloseIdleConnections()
		close(l.done)
	}()
	t.Cleanup(l.stopAndWait)
	return l
}

func (l *serverLoad) run(ctx context.Context, client int) {
	for i := range loadPerClient {
		id := fmt.Sprintf("%s-%d-%d", l.prefix, client, i)
		if !l.deliver(ctx, id, serverEventBody(l.site, id, time.Now())) {
			return
		}
		if !l.sleep(ctx, loadPause) {
			return
		}
	}
}

// serverEventBody is a /v1/events body holding one sale.
func serverEventBody(site, id string, at time.Time) string {
	return `{"site": "` + site + `", "events": [{"event_id": "` + id + `", "type": "conversion", "name": "purchase",
	  "timestamp": "` + at.UTC().Format(time.RFC3339) + `", "value": 12.5, "currency": "EUR", "order_id": "` + id + `"}]}`
}

// deliver sends one event until it is answered for good, and reports
// whether the client should go on.
func (l *serverLoad) deliver(ctx context.Context, id, body string) bool {
	for {
		status, header, resp, err := l.send(body)
		if err != nil {
			l.record(func() { l.noAnswer = append(l.noAnswer, err) })
			return false
		}
		switch status {
		case http.StatusOK:
			var r struct{ Accepted, Duplicates int }
			if json.Unmarshal(resp, &r) != nil || r.Accepted+r.Duplicates != 1 {
				l.record(func() { l.unexpected = append(l.unexpected, fmt.Sprintf("%s: 200 %s", id, resp)) })
				return true
			}
			l.record(func() {
				l.acked = append(l.acked, id)
				l.duplicates += r.Duplicates
				l.wake()
			})
			return true
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			wait, err := strconv.Atoi(header.Get("Retry-After"))
			if err != nil || wait < 1 {
				l.record(func() {
					l.unexpected = append(l.unexpected, fmt.Sprintf("%s: %d with Retry-After %q", id, status, header.Get("Retry-After")))
				})
				wait = 1
			} else if status == http.StatusServiceUnavailable {
				l.record(func() { l.unavailable++ })
			} else {
				l.record(func() { l.throttled++ })
			}
			if !l.sleep(ctx, time.Duration(wait)*time.Second) {
				return false
			}
		default:
			l.record(func() { l.unexpected = append(l.unexpected, fmt.Sprintf("%s: %d %s", id, status, resp)) })
			return true
		}
	}
}

func (l *serverLoad) send(body string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, l.url, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", l.bearer)
	req.Header.Set("Content-Type", "application/json")
	res, err := l.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("while reading the answer: %w", err)
	}
	return res.StatusCode, res.Header, b, nil
}

// sleep waits d, and reports false when the load ends meanwhile.
func (l *serverLoad) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-l.stop:
		return false
	case <-ctx.Done():
		return false
	}
}

func (l *serverLoad) record(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
}

// counts returns how many events were acknowledged and how many 503s with
// a Retry-After were answered so far.
func (l *serverLoad) counts() (acked, unavailable int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked), l.unavailable
}

// wake closes the channels of the waiters whose count is reached; l.mu
// is held.
func (l *serverLoad) wake() {
	kept := l.waiters[:0]
	for _, w := range l.waiters {
		if len(l.acked) >= w.n {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	l.waiters = kept
}

// waitAcked returns as soon as n events are acknowledged in all, so what
// the test does next (stop PostgreSQL, kill the collector) lands right
// after an acknowledgement, while that event's neighbours are in flight.
// what says what did not happen, for the failure message.
func (l *serverLoad) waitAcked(t *testing.T, n int, what string) {
	t.Helper()
	l.mu.Lock()
	w := ackWaiter{n: n, ch: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	l.wake()
	l.mu.Unlock()
	select {
	case <-w.ch:
	case <-l.done:
		select {
		case <-w.ch: // the last answers reached n as the load ended
		default:
			t.Fatalf("%s: the load ended (%s)", what, l.summary())
		}
	case <-time.After(patience):
		t.Fatalf("after %v: %s (%s)", patience, what, l.summary())
	}
}

// stopAndWait stops the clients and waits until they have ended.
func (l *serverLoad) stopAndWait() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// ackedIDs returns the acknowledged event ids; call it after stopAndWait.
func (l *serverLoad) ackedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.acked...)
}

func (l *serverLoad) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d acknowledged (%d as already stored), %d answered 503, %d answered 429, %d unexpected answers, %d without answer",
		len(l.acked), l.duplicates, l.unavailable, l.throttled, len(l.unexpected), len(l.noAnswer))
}

// checkAnswers fails t for every answer that was not 200, or 429/503 with
// a Retry-After, and, unless allowed, for requests that got no answer.
func (l *serverLoad) checkAnswers(t *testing.T, noAnswerAllowed bool) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.unexpected) > 0 {
		t.Errorf("%d unexpected answers, e.g. %s", len(l.unexpected), strings.Join(l.unexpected[:min(5, len(l.unexpected))], "; "))
	}
	if len(l.noAnswer) > 0 && !noAnswerAllowed {
		t.Errorf("%d requests got no answer, e.g. %v", len(l.noAnswer), l.noAnswer[0])
	}
}

// checkStored fails t for every id not stored exactly once as an event of
// site, read straight from PostgreSQL's events table.
func checkStored(t *testing.T, dsn, site string, ids []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("while connecting to check the stored events: %v", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT event_id, count(*) FROM events WHERE site = $1 AND event_id = ANY($2) GROUP BY event_id`, site, ids)
	if err != nil {
		t.Fatalf("while reading the stored events: %v", err)
	}
	stored := map[string]int64{}
	var id string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { stored[id] = n; return nil }); err != nil {
		t.Fatalf("while reading the stored events: %v", err)
	}
	var missing, repeated []string
	for _, id := range ids {
		switch stored[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			repeated = append(repeated, fmt.Sprintf("%s×%d", id, stored[id]))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged events are not in PostgreSQL: %v", len(missing), len(ids), missing)
	}
	if len(repeated) > 0 {
		t.Errorf("%d acknowledged events are stored more than once: %v", len(repeated), repeated)
	}
}

// waitUntil polls cond until it holds; after patience it fails t saying
// what did not happen.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", patience, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyz returns the status of the collector's /readyz, 0 when it did not
// answer.
func readyz(url string) int {
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(url + "/readyz")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// requireRunning fails t when the collector process has exited.
func (p *collectProcess) requireRunning(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err // for the cleanup
		t.Fatalf("the collector exited: %v", err)
	default:
	}
}
