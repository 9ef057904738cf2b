// Package webhookfake is a strict webhook receiver for tests: it verifies
// every request's signature with webhook.Verify, decodes the body strictly,
// deduplicates on Idempotency-Key, and records what it accepted.
package webhookfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/trackstack/trackstack/runtime/forward/webhook"
)

// Tolerance is how far a signature's timestamp may be from the fake's clock.
const Tolerance = 5 * time.Minute

var idempotencyKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Fake is an http.Handler receiving webhook POSTs at any path. It is safe
// for concurrent use.
type Fake struct {
	secret string
	now    func() time.Time

	mu         sync.Mutex
	requests   int
	events     []webhook.Event
	keys       map[string]bool
	duplicates int
	rejections []string
	failures   []failure
}

type failure struct {
	status     int
	retryAfter time.Duration
}

// New returns a receiver verifying signatures made with secret.
func New(secret string) *Fake {
	return &Fake{secret: secret, now: time.Now, keys: map[string]bool{}}
}

// FailNext makes the next n requests answer status, with a Retry-After
// header when retryAfter is set, before any check.
func (f *Fake) FailNext(n, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, failure{status, retryAfter})
	}
}

// Events returns the accepted events, in arrival order, each once.
func (f *Fake) Events() []webhook.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]webhook.Event(nil), f.events...)
}

// Requests counts every request received.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Duplicates counts accepted requests whose Idempotency-Key was seen before.
func (f *Fake) Duplicates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.duplicates
}

// Rejections returns why each refused request was refused.
func (f *Fake) Rejections() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.rejections...)
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.injectedFailure(w) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		f.reject(w, http.StatusBadRequest, "unreadable body")
		return
	}
	status, p, err := f.check(r, body)
	if err != nil {
		f.reject(w, status, err.Error())
		return
	}
	f.accept(r.Header.Get("Idempotency-Key"), p)
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) check(r *http.Request, body []byte) (int, webhook.Payload, error) {
	var p webhook.Payload
	switch {
	case r.Method != http.MethodPost:
		return http.StatusMethodNotAllowed, p, errors.New("method is not POST")
	case r.Header.Get("Content-Type") != "application/json":
		return http.StatusUnsupportedMediaType, p, errors.New("content type is not application/json")
	}
	if err := webhook.Verify(f.secret, r.Header.Get(webhook.SignatureHeader), body, f.now(), Tolerance); err != nil {
		return http.StatusUnauthorized, p, err
	}
	if !idempotencyKey.MatchString(r.Header.Get("Idempotency-Key")) {
		return http.StatusBadRequest, p, errors.New("Idempotency-Key is missing or not 32 hex digits")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return http.StatusBadRequest, p, fmt.Errorf("body: %w", err)
	}
	if err := validate(p); err != nil {
		return http.StatusUnprocessableEntity, p, err
	}
	return 0, p, nil
}

func validate(p webhook.Payload) error {
	if p.Site == "" || len(p.Events) == 0 {
		return errors.New("site and events are required")
	}
	for i, e := range p.Events {
		switch {
		case e.Site != p.Site:
			return fmt.Errorf("events[%d]: site %q is not the payload's %q", i, e.Site, p.Site)
		case e.EventID == "" || e.Name == "" || e.SendAs == "":
			return fmt.Errorf("events[%d]: event_id, name and send_as are required", i)
		case e.Timestamp.IsZero():
			return fmt.Errorf("events[%d]: timestamp is required", i)
		}
	}
	return nil
}

func (f *Fake) accept(key string, p webhook.Payload) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys[key] {
		f.duplicates++
		return
	}
	f.keys[key] = true
	f.events = append(f.events, p.Events...)
}

func (f *Fake) reject(w http.ResponseWriter, status int, why string) {
	f.mu.Lock()
	f.rejections = append(f.rejections, why)
	f.mu.Unlock()
	http.Error(w, why, status)
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
