// Package googleadsfake is a strict local stand-in for the Data Manager
// API's events:ingest method and Google's OAuth2 token endpoint, for tests
// of the googleads adapter and of the engine.
//
// It decodes every request body strictly into the published structs of
// google.golang.org/api/datamanager/v1 (unknown fields rejected at every
// depth, by their exact names), then checks the rules those structs cannot
// express (see Validate). Like Google, it accepts or rejects a request whole and answers
// errors as {"error":{"code","message","status"}}.
package googleadsfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	datamanager "google.golang.org/api/datamanager/v1"

	"github.com/trackstack/trackstack/runtime/forward/internal/googleauth/googleauthfake"
)

// IngestPath is the path of events:ingest.
const IngestPath = "/v1/events:ingest"

// TokenPath is where the fake's token endpoint is served.
const TokenPath = googleauthfake.Path

// maxBody is the request size Google documents for the Data Manager API
// (well under it, 10 MB).
const maxBody = 10 << 20

// Fake is an http.Handler serving the token endpoint at TokenPath and
// events:ingest at IngestPath. Safe for concurrent use.
type Fake struct {
	// Tokens is the token endpoint: its Hits, Revoke and FailNext are the
	// knobs for OAuth behaviour.
	Tokens *googleauthfake.Server

	mu       sync.Mutex
	requests []*datamanager.IngestEventsRequest
	events   []*datamanager.Event
	count    int
	fails    []int
}

// New returns a fake accepting these OAuth client credentials and this
// refresh token.
func New(clientID, clientSecret, refreshToken string) *Fake {
	return &Fake{Tokens: googleauthfake.New(clientID, clientSecret, refreshToken)}
}

// FailNext makes the next n ingest requests that pass authentication
// answer status (429, 500, 503, 403, ...) in Google's error shape.
func (f *Fake) FailNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.fails = append(f.fails, status)
	}
}

// RequestCount is how many ingest requests arrived, good or bad.
func (f *Fake) RequestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

// Requests returns the accepted ingest requests, validateOnly ones too.
func (f *Fake) Requests() []*datamanager.IngestEventsRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*datamanager.IngestEventsRequest(nil), f.requests...)
}

// Events returns the events recorded by accepted requests; validateOnly
// requests record none, as with Google.
func (f *Fake) Events() []*datamanager.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*datamanager.Event(nil), f.events...)
}

// ServeHTTP routes to the token endpoint or events:ingest.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == TokenPath:
		f.Tokens.ServeHTTP(w, r)
	case r.URL.Path == IngestPath && r.Method == http.MethodPost:
		f.ingest(w, r)
	case r.URL.Path == IngestPath:
		WriteError(w, http.StatusMethodNotAllowed, "events:ingest takes POST")
	default:
		WriteError(w, http.StatusNotFound, "The requested URL "+r.URL.Path+" was not found on this server.")
	}
}

func (f *Fake) ingest(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.count++
	f.mu.Unlock()
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !f.Tokens.Valid(token) {
		WriteError(w, http.StatusUnauthorized, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
		return
	}
	if status, ok := f.nextFailure(); ok {
		WriteError(w, status, "injected failure")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		WriteError(w, http.StatusBadRequest, "Content-Type must be application/json, got "+ct)
		return
	}
	body, err := readBody(r)
	if err != nil || len(body) > maxBody {
		WriteError(w, http.StatusBadRequest, "request body unreadable or over 10 MB")
		return
	}
	req, err := decodeRequest(body)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		return
	}
	if err := Validate(req); err != nil {
		WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	f.record(req)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(datamanager.IngestEventsResponse{RequestId: newRequestID()})
}

// readBody reads at most maxBody+1 bytes, into one buffer of the
// announced size when there is one: a full batch is about a megabyte.
func readBody(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, maxBody+1))
	return buf.Bytes(), err
}

func (f *Fake) nextFailure() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fails) == 0 {
		return 0, false
	}
	s := f.fails[0]
	f.fails = f.fails[1:]
	return s, true
}

func (f *Fake) record(req *datamanager.IngestEventsRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if !req.ValidateOnly {
		f.events = append(f.events, req.Events...)
	}
}

// statusNames are the canonical google.rpc codes Google puts in "status".
var statusNames = map[int]string{
	http.StatusBadRequest:          "INVALID_ARGUMENT",
	http.StatusUnauthorized:        "UNAUTHENTICATED",
	http.StatusForbidden:           "PERMISSION_DENIED",
	http.StatusNotFound:            "NOT_FOUND",
	http.StatusMethodNotAllowed:    "UNIMPLEMENTED",
	http.StatusTooManyRequests:     "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError: "INTERNAL",
	http.StatusServiceUnavailable:  "UNAVAILABLE",
}

// WriteError answers in Google's error shape.
func WriteError(w http.ResponseWriter, status int, message string) {
	name := statusNames[status]
	if name == "" {
		name = "UNKNOWN"
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"code": status, "message": message, "status": name},
	})
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
