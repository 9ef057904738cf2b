// Package tiktokfake is a strict local stand-in for the TikTok Events API
// 2.0 (POST /open_api/v1.3/event/track/) for tests: it checks what TikTok
// would reject, answers in TikTok's shape ({code, message, request_id},
// HTTP 200 with a non-zero code on failure), records what it accepted, and
// can be told to fail.
//
// It answers code 40104 when the Access-Token header is missing, 40105 when
// it is wrong, and 40002 (invalid parameters) for: a body that is not
// JSON or has fields TikTok does not define (stricter than TikTok, so a
// misspelt field fails a test instead of being dropped), event_source other
// than "web", event_source_id other than the pixel code, data that is not 1
// to 1,000 events, an event without event or event_time, a user.email,
// user.phone or user.external_id that is not a 64-character lower-case hex
// digest, a user.ip that is not an IP address, a properties.value without a
// currency, a currency that is not three letters, contents without
// content_id, and a page.url that is not an absolute URL.
package tiktokfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// MaxEvents is the batch limit the fake enforces.
const MaxEvents = 1000

// Return codes the fake answers with.
const (
	CodeOK           = 0
	CodeInvalidParam = 40002
	CodeRateLimit    = 40100
	CodeTokenEmpty   = 40104
	CodeTokenInvalid = 40105
	CodeSystemError  = 50000
)

// Fake is an http.Handler that behaves as the Events API for one pixel. It
// is safe for concurrent use.
type Fake struct {
	pixelCode string
	token     string

	mu        sync.Mutex
	requests  int
	events    []Event
	testCodes []string
	failures  []failure
}

// failure is one injected answer: an HTTP status, or a code in a 200.
type failure struct {
	status int
	code   int
}

// New returns a Fake for pixelCode that accepts token.
func New(pixelCode, token string) *Fake {
	return &Fake{pixelCode: pixelCode, token: token}
}

// FailNextCode makes the next n requests answer HTTP 200 with TikTok
// return code (40100, 50000, 40105, ...).
func (f *Fake) FailNextCode(n, code int) { f.inject(n, failure{status: http.StatusOK, code: code}) }

// FailNextHTTP makes the next n requests answer with HTTP status (a 5xx
// from TikTok's gateway) and code 50000.
func (f *Fake) FailNextHTTP(n, status int) {
	f.inject(n, failure{status: status, code: CodeSystemError})
}

func (f *Fake) inject(n int, fl failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, fl)
	}
}

// Requests is how many requests the fake received, rejected ones included.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Events are the events of every accepted request, in arrival order.
func (f *Fake) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

// TestEventCodes are the test_event_code of every accepted request.
func (f *Fake) TestEventCodes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.testCodes...)
}

// Answer is TikTok's reply.
type Answer struct {
	Code      int             `json:"code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
	Data      json.RawMessage `json:"data"`
}

// ServeHTTP answers one request as TikTok would.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	reqID := fmt.Sprintf("FAKEREQ%06d", f.requests)
	var injected *failure
	if len(f.failures) > 0 {
		injected, f.failures = &f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()

	if r.Method != http.MethodPost || r.URL.Path != "/open_api/v1.3/event/track/" {
		reply(w, http.StatusNotFound, CodeInvalidParam, "Path not found: "+r.URL.Path, reqID)
		return
	}
	switch tok := r.Header.Get("Access-Token"); {
	case tok == "":
		reply(w, http.StatusOK, CodeTokenEmpty, "Access token is empty", reqID)
		return
	case tok != f.token:
		reply(w, http.StatusOK, CodeTokenInvalid, "Access token is incorrect or has been revoked.", reqID)
		return
	}
	if injected != nil {
		reply(w, injected.status, injected.code, fmt.Sprintf("injected failure %d", injected.code), reqID)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
	if err != nil {
		reply(w, http.StatusOK, CodeInvalidParam, "reading the body: "+err.Error(), reqID)
		return
	}
	body, msg := parse(raw, f.pixelCode)
	if msg != "" {
		reply(w, http.StatusOK, CodeInvalidParam, msg, reqID)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, body.Data...)
	f.testCodes = append(f.testCodes, body.TestEventCode)
	f.mu.Unlock()
	reply(w, http.StatusOK, CodeOK, "OK", reqID)
}

func reply(w http.ResponseWriter, status, code int, message, reqID string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Answer{Code: code, Message: message, RequestID: reqID, Data: json.RawMessage(`{}`)})
}
