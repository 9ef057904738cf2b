// Package metafake is a strict local stand-in for the Meta Conversions API
// (POST /v26.0/{pixelID}/events) for tests: it checks what Meta would
// reject, answers in Meta's shapes, records what it accepted, and can be
// told to fail.
//
// It rejects, with Meta's error object and HTTP 400 unless noted: a wrong
// method or path (404), a missing or wrong access token (401,
// OAuthException code 190), a body that is not JSON or a form, data that
// is not 1 to 1,000 events, an event older than 7 days (the WHOLE request
// fails, as at Meta) or more than 10 minutes in the future, an event
// without event_name, event_time or a known action_source, a website event
// without event_source_url or user_data.client_user_agent, a hashed field
// (em, ph, fn, ln, ge, db, ct, st, zp, country, external_id) that is not a
// 64-character lower-case hex digest, fbc/fbp not in the fb.1.{ms}.{value}
// form, a Purchase without custom_data.value and currency, and fields of an
// event or of user_data Meta does not define: stricter than Meta there, so
// a misspelt field fails a test instead of silently losing matching data.
package metafake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Meta's limits the fake enforces.
const (
	MaxEvents = 1000
	MaxAge    = 7 * 24 * time.Hour
	maxFuture = 10 * time.Minute
)

// Fake is an http.Handler that behaves as the Conversions API endpoint of
// one pixel. It is safe for concurrent use.
type Fake struct {
	pixelID string
	token   string

	mu        sync.Mutex
	now       func() time.Time
	requests  int
	events    []Event
	testCodes []string
	failures  []int
}

// New returns a Fake for pixelID that accepts token.
func New(pixelID, token string) *Fake {
	return &Fake{pixelID: pixelID, token: token, now: time.Now}
}

// SetClock makes the fake judge event ages against now.
func (f *Fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// FailNext makes the next n requests fail with status: 5xx answers are
// Meta's transient error (is_transient true), 429 its application rate
// limit (code 4), 401 and 403 an invalid token (code 190), anything else
// an invalid parameter (code 100).
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

// Events are the events of every accepted request, in arrival order.
func (f *Fake) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

// TestEventCodes are the test_event_code of every accepted request ("" when
// a request had none).
func (f *Fake) TestEventCodes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.testCodes...)
}

// ServeHTTP answers one request as Meta would.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	n := f.requests
	now := f.now()
	var injected int
	if len(f.failures) > 0 {
		injected, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()

	trace := fmt.Sprintf("FAKETRACE%06d", n)
	if r.Method != http.MethodPost || r.URL.Path != "/v26.0/"+f.pixelID+"/events" {
		writeError(w, http.StatusNotFound, apiError{Message: "Unknown path components: " + r.URL.Path, Type: "OAuthException", Code: 2500}, trace)
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, invalidParameter(err.Error()), trace)
		return
	}
	if body.AccessToken != f.token {
		writeError(w, http.StatusUnauthorized, apiError{Message: "Invalid OAuth access token - Cannot parse access token", Type: "OAuthException", Code: 190}, trace)
		return
	}
	if injected != 0 {
		writeError(w, injected, injectedError(injected), trace)
		return
	}
	if err := validate(body.Data, now); err != nil {
		writeError(w, http.StatusBadRequest, *err, trace)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, body.Data...)
	f.testCodes = append(f.testCodes, body.TestEventCode)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"events_received": len(body.Data), "messages": []string{}, "fbtrace_id": trace})
}

// body is a request with the token read from wherever it was sent.
type body struct {
	Data          []Event
	TestEventCode string
	AccessToken   string
}

// readBody reads a JSON body or a form (data as a JSON string); the token
// may also come in the query, as Meta allows. The adapter's own bodies take
// fastDecode; it hands everything else to the general path below.
func readBody(r *http.Request) (*body, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %v", err)
	}
	form := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	if !form {
		if b, ok := fastDecode(raw); ok {
			if b.AccessToken == "" {
				b.AccessToken = r.URL.Query().Get("access_token")
			}
			return b, nil
		}
	}
	return decodeGeneral(r, raw, form)
}

// decodeGeneral decodes any body by reflection, refusing unknown fields of
// events and user_data.
func decodeGeneral(r *http.Request, raw []byte, form bool) (*body, error) {
	var b body
	var dataJSON []byte
	if form {
		r.Body = io.NopCloser(strings.NewReader(string(raw)))
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("the form does not parse: %v", err)
		}
		b.AccessToken, b.TestEventCode = r.PostForm.Get("access_token"), r.PostForm.Get("test_event_code")
		dataJSON = []byte(r.PostForm.Get("data"))
	} else {
		var top struct {
			Data          json.RawMessage `json:"data"`
			TestEventCode string          `json:"test_event_code"`
			AccessToken   string          `json:"access_token"`
		}
		if err := json.Unmarshal(raw, &top); err != nil {
			return nil, fmt.Errorf("the body is not a JSON object: %v", err)
		}
		b.AccessToken, b.TestEventCode, dataJSON = top.AccessToken, top.TestEventCode, top.Data
	}
	if b.AccessToken == "" {
		b.AccessToken = r.URL.Query().Get("access_token")
	}
	if len(dataJSON) == 0 {
		return nil, fmt.Errorf("the parameter data is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(dataJSON)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b.Data); err != nil {
		return nil, fmt.Errorf("data is not an array of server events: %v", err)
	}
	return &b, nil
}

// apiError is Meta's error object.
type apiError struct {
	Message      string `json:"message"`
	Type         string `json:"type"`
	Code         int    `json:"code"`
	ErrorSubcode int    `json:"error_subcode,omitempty"`
	IsTransient  bool   `json:"is_transient"`
	UserTitle    string `json:"error_user_title,omitempty"`
	UserMsg      string `json:"error_user_msg,omitempty"`
	FBTraceID    string `json:"fbtrace_id"`
}

func invalidParameter(userMsg string) apiError {
	return apiError{Message: "Invalid parameter", Type: "OAuthException", Code: 100, UserTitle: "Invalid parameter", UserMsg: userMsg}
}

func injectedError(status int) apiError {
	switch {
	case status >= 500:
		return apiError{Message: "An unexpected error has occurred. Please retry your request later.", Type: "OAuthException", Code: 2, IsTransient: true}
	case status == http.StatusTooManyRequests:
		return apiError{Message: "(#4) Application request limit reached", Type: "OAuthException", Code: 4, IsTransient: true}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return apiError{Message: "Error validating access token: Session has expired", Type: "OAuthException", Code: 190, ErrorSubcode: 463}
	}
	return invalidParameter("injected failure")
}

func writeError(w http.ResponseWriter, status int, e apiError, trace string) {
	e.FBTraceID = trace
	writeJSON(w, status, map[string]apiError{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
