// Package ga4fake is a strict local stand-in for the GA4 Measurement
// Protocol, for tests of the ga4 adapter and of the forwarding engine.
//
// Like GA4, /mp/collect answers 204 to everything it accepts as a request,
// even data GA4 would silently drop; unlike GA4 it records why, so a test
// can assert that nothing invalid was ever sent (Violations) and that no
// request carried a wrong api_secret (Dropped). /debug/mp/collect answers
// validationMessages as GA4's validation server does, and records nothing.
package ga4fake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Event is one event the fake accepted, with its request-level fields.
type Event struct {
	ClientID        string
	UserID          string
	Consent         map[string]string
	UserData        map[string][]string
	Name            string
	TimestampMicros int64
	Params          map[string]any
}

// Message is a validation message, as /debug/mp/collect answers them.
type Message struct {
	FieldPath      string `json:"fieldPath"`
	Description    string `json:"description"`
	ValidationCode string `json:"validationCode"`
}

// Fake is an http.Handler serving /mp/collect and /debug/mp/collect for
// one measurement id and api secret. It is safe for concurrent use.
type Fake struct {
	measurementID string
	apiSecret     string
	now           func() time.Time

	mu         sync.Mutex
	requests   int
	events     []Event
	violations []string
	dropped    int
	failures   []failure
}

type failure struct {
	status     int
	retryAfter time.Duration
}

// New returns a fake expecting measurementID and apiSecret in every query.
func New(measurementID, apiSecret string) *Fake {
	return &Fake{measurementID: measurementID, apiSecret: apiSecret, now: time.Now}
}

// FailNext makes the next n requests answer status (e.g. 429, 500, 401),
// with a Retry-After header when retryAfter is set, before any check.
func (f *Fake) FailNext(n, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, failure{status: status, retryAfter: retryAfter})
	}
}

// Events returns the events accepted by /mp/collect, in arrival order.
func (f *Fake) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

// Violations returns, for every request /mp/collect answered 204 but GA4
// would have dropped, why.
func (f *Fake) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.violations...)
}

// Dropped counts requests with a wrong measurement_id or api_secret: GA4
// answers them 2xx and drops them.
func (f *Fake) Dropped() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// Requests counts every request received, failed ones included.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	debug := r.URL.Path == "/debug/mp/collect"
	if !debug && r.URL.Path != "/mp/collect" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if f.injectedFailure(w) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4*MaxBodyBytes))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	msgs := f.validate(r, body)
	if debug {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string][]Message{"validationMessages": nonNil(msgs)})
		return
	}
	f.record(r, body, msgs)
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) injectedFailure(w http.ResponseWriter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if len(f.failures) == 0 {
		return false
	}
	fl := f.failures[0]
	f.failures = f.failures[1:]
	if fl.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(fl.retryAfter/time.Second)))
	}
	http.Error(w, http.StatusText(fl.status), fl.status)
	return true
}

func (f *Fake) credentialsMatch(r *http.Request) bool {
	q := r.URL.Query()
	return q.Get("measurement_id") == f.measurementID && q.Get("api_secret") == f.apiSecret
}

func (f *Fake) validate(r *http.Request, body []byte) []Message {
	if !f.credentialsMatch(r) {
		return []Message{{Description: "measurement_id or api_secret does not match the stream", ValidationCode: "VALUE_INVALID"}}
	}
	return Validate(body, f.now())
}

func (f *Fake) record(r *http.Request, body []byte, msgs []Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.credentialsMatch(r) {
		f.dropped++
		return
	}
	if len(msgs) > 0 {
		for _, m := range msgs {
			f.violations = append(f.violations, fmt.Sprintf("%s: %s (%s)", m.ValidationCode, m.Description, m.FieldPath))
		}
		return
	}
	var p payload
	_ = json.Unmarshal(body, &p) // Validate decoded it strictly already.
	for _, e := range p.Events {
		ts := p.TimestampMicros
		if e.TimestampMicros != 0 {
			ts = e.TimestampMicros
		}
		f.events = append(f.events, Event{
			ClientID: p.ClientID, UserID: p.UserID, Consent: p.Consent.asMap(), UserData: p.UserData.asMap(),
			Name: e.Name, TimestampMicros: ts, Params: e.Params,
		})
	}
}

func nonNil(m []Message) []Message {
	if m == nil {
		return []Message{}
	}
	return m
}
