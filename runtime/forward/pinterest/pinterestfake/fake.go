// Package pinterestfake is a strict local stand-in for the Pinterest
// Conversions API (POST /v5/ad_accounts/{id}/events) for tests.
//
// Every event is validated against the ConversionEvents schema of
// Pinterest's own OpenAPI description (v5.23.0, embedded), as a one-event
// ConversionEvents body so that one bad event fails alone, as at Pinterest;
// the body's top level is held to the same schema's rules (only data, 1 to
// 1,000 events). The schema also carries the user_data rule (em,
// hashed_maids, or client_ip_address with client_user_agent). Beyond the schema it checks what Pinterest documents
// in prose: event_name is one of Pinterest's names, action_source one of
// app_android, app_ios, web, offline, hashed user_data fields are 64-char
// lower-case hex digests, custom_data.value and item prices are decimal
// strings, currency three letters.
//
// It answers as Pinterest does: 401 {code: 2} for a missing or wrong Bearer
// token, 400 {code, message} for a body whose shape is wrong as a whole (not
// JSON, no data, more than 1,000 events, fields outside the schema at the
// top), and otherwise per-event statuses in request order,
// events[{status: processed|failed, error_message}], with HTTP 200 when all
// were processed and 422 when any failed. Requests with ?test=true are
// validated alike and recorded apart (Tests), their events not counted as
// received.
package pinterestfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// MaxEvents is Pinterest's limit per request.
const MaxEvents = 1000

// schema is compiled once per process: the description is 2 MB.
var schema = sync.OnceValues(compileSchema)

// Fake is an http.Handler that behaves as the Conversions API of one ad
// account. It is safe for concurrent use.
type Fake struct {
	adAccountID string
	token       string
	schema      *jsonschema.Schema

	mu       sync.Mutex
	requests int
	events   []Event
	tests    []bool
	failures []int
}

// New returns a Fake for adAccountID that accepts token. It fails only if
// the embedded OpenAPI description does not compile.
func New(adAccountID, token string) (*Fake, error) {
	s, err := schema()
	if err != nil {
		return nil, err
	}
	return &Fake{adAccountID: adAccountID, token: token, schema: s}, nil
}

// FailNext makes the next n requests fail with status and Pinterest's
// error object.
func (f *Fake) FailNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, status)
	}
}

// Requests is how many requests the fake received, rejected ones included.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// Events are the processed events of every request without ?test=true, in
// arrival order.
func (f *Fake) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

// Tests tells, per request that reached per-event validation, whether it
// carried ?test=true.
func (f *Fake) Tests() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bool(nil), f.tests...)
}

// EventStatus is one element of the answer's events[].
type EventStatus struct {
	Status         string `json:"status"`
	ErrorMessage   string `json:"error_message,omitempty"`
	WarningMessage string `json:"warning_message,omitempty"`
}

// Answer is Pinterest's reply to a body it read.
type Answer struct {
	NumEventsReceived  int           `json:"num_events_received"`
	NumEventsProcessed int           `json:"num_events_processed"`
	Events             []EventStatus `json:"events"`
}

// ErrorAnswer is Pinterest's error object.
type ErrorAnswer struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// ServeHTTP answers one request as Pinterest would.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	rid := fmt.Sprintf("fakerid%06d", f.requests)
	var injected int
	if len(f.failures) > 0 {
		injected, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()
	w.Header().Set("x-pinterest-rid", rid)

	if r.Method != http.MethodPost || r.URL.Path != "/v5/ad_accounts/"+f.adAccountID+"/events" {
		writeJSON(w, http.StatusNotFound, ErrorAnswer{Code: 404, Message: "Resource not found: " + r.URL.Path})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		writeJSON(w, http.StatusUnauthorized, ErrorAnswer{Code: 2, Message: "Authentication failed."})
		return
	}
	if injected != 0 {
		writeJSON(w, injected, injectedError(injected))
		return
	}
	test, err := testParam(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorAnswer{Code: 1, Message: err.Error()})
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorAnswer{Code: 1, Message: "reading the body: " + err.Error()})
		return
	}
	events, err := f.split(raw)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorAnswer{Code: 1, Message: err.Error()})
		return
	}
	answer, processed := f.judge(events)
	f.mu.Lock()
	f.tests = append(f.tests, test)
	if !test {
		f.events = append(f.events, processed...)
	}
	f.mu.Unlock()
	status := http.StatusOK
	if answer.NumEventsProcessed < answer.NumEventsReceived {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, answer)
}

func testParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("test")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("Invalid parameter: test must be a boolean, got %q", v)
	}
	return b, nil
}

// split checks the body's shape as a whole and returns its events, each as
// raw JSON for per-event validation.
func (f *Fake) split(raw []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("Invalid request body: not a JSON object: %v", err)
	}
	for k := range top {
		if k != "data" {
			return nil, fmt.Errorf("Invalid request body: unknown field %q", k)
		}
	}
	var events []json.RawMessage
	if err := json.Unmarshal(top["data"], &events); err != nil || events == nil {
		return nil, fmt.Errorf("Invalid request body: data must be an array of events")
	}
	if len(events) == 0 || len(events) > MaxEvents {
		return nil, fmt.Errorf("Invalid request body: data must hold 1 to %d events, not %d", MaxEvents, len(events))
	}
	return events, nil
}

// judge validates each event on its own, so one bad event fails alone.
func (f *Fake) judge(events []json.RawMessage) (Answer, []Event) {
	a := Answer{NumEventsReceived: len(events), Events: make([]EventStatus, len(events))}
	var processed []Event
	for i, raw := range events {
		ev, msg := f.check(raw)
		if msg != "" {
			a.Events[i] = EventStatus{Status: "failed", ErrorMessage: msg}
			continue
		}
		a.Events[i] = EventStatus{Status: "processed"}
		a.NumEventsProcessed++
		processed = append(processed, ev)
	}
	return a, processed
}

// check validates one event against the schema (as a one-event body) and
// Pinterest's prose rules.
func (f *Fake) check(raw json.RawMessage) (Event, string) {
	body := append(append([]byte(`{"data":[`), raw...), ']', '}')
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return Event{}, "event is not JSON: " + err.Error()
	}
	if err := f.schema.Validate(inst); err != nil {
		return Event{}, schemaMessage(err)
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Event{}, "event does not decode: " + err.Error()
	}
	return ev, checkRules(ev)
}

// schemaMessage is a validation error on one line, with paths relative to
// the event.
func schemaMessage(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	msg = strings.ReplaceAll(msg, "'/data/0/", "'/")
	return msg
}

func injectedError(status int) ErrorAnswer {
	switch {
	case status == http.StatusTooManyRequests:
		return ErrorAnswer{Code: 8, Message: "You have exceeded your rate limit. Try again later."}
	case status == http.StatusUnauthorized:
		return ErrorAnswer{Code: 2, Message: "Authentication failed."}
	case status == http.StatusForbidden:
		return ErrorAnswer{Code: 29, Message: "You are not permitted to access that resource."}
	case status >= 500:
		return ErrorAnswer{Code: 3, Message: "Service unavailable. Try again later."}
	}
	return ErrorAnswer{Code: 1, Message: "injected failure"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
