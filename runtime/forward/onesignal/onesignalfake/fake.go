// Package onesignalfake is a strict local stand-in for OneSignal's
// POST /notifications, for tests of the onesignal adapter and of the
// engine. It checks the app id, the "Authorization: Key" header, the
// content and the idempotency key, and deduplicates on the key as
// OneSignal does: a repeated key returns the first notification's id and
// notifies nobody again.
package onesignalfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Notification is one notification the fake created.
type Notification struct {
	ID             string
	Segments       []string
	Headings       map[string]string
	Contents       map[string]string
	IdempotencyKey string
}

// Fake serves POST /notifications for one app and API key. It is safe for
// concurrent use.
type Fake struct {
	appID    string
	apiKey   string
	segments map[string]bool

	mu            sync.Mutex
	requests      int
	notifications []Notification
	byKey         map[string]string
	duplicates    int
	noSubscribers bool
	failures      []failure
}

type failure struct {
	status     int
	retryAfter time.Duration
}

var uuid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// New returns a fake app with the built-in segments.
func New(appID, apiKey string) *Fake {
	return &Fake{appID: appID, apiKey: apiKey, byKey: map[string]string{},
		segments: map[string]bool{"Total Subscriptions": true, "Active Subscriptions": true, "Inactive Subscriptions": true}}
}

// NoSubscribers makes every segment empty: OneSignal then answers 200 with
// an empty id and an error.
func (f *Fake) NoSubscribers() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noSubscribers = true
}

// FailNext makes the next n requests answer status, with Retry-After when
// retryAfter is set, before any check.
func (f *Fake) FailNext(n, status int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, failure{status, retryAfter})
	}
}

// Notifications returns the created notifications, in order.
func (f *Fake) Notifications() []Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Notification(nil), f.notifications...)
}

// Duplicates counts requests answered from an earlier idempotency key.
func (f *Fake) Duplicates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.duplicates
}

// Requests counts every request received.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// request is the body, decoded strictly: the fields this fake understands.
type request struct {
	AppID            string              `json:"app_id"`
	TargetChannel    string              `json:"target_channel"`
	IncludedSegments []string            `json:"included_segments"`
	ExcludedSegments []string            `json:"excluded_segments"`
	IncludeAliases   map[string][]string `json:"include_aliases"`
	Headings         map[string]string   `json:"headings"`
	Contents         map[string]string   `json:"contents"`
	IdempotencyKey   string              `json:"idempotency_key"`
	URL              string              `json:"url"`
	Data             json.RawMessage     `json:"data"`
	Name             string              `json:"name"`
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.injected(w) {
		return
	}
	switch {
	case r.URL.Path != "/notifications":
		reply(w, http.StatusNotFound, map[string]any{"errors": []string{"Not Found"}})
		return
	case r.Method != http.MethodPost:
		reply(w, http.StatusMethodNotAllowed, map[string]any{"errors": []string{"Method Not Allowed"}})
		return
	case r.Header.Get("Authorization") != "Key "+f.apiKey:
		reply(w, http.StatusForbidden, map[string]any{"errors": []string{
			"Access denied.  Please include an 'Authorization: ...' header with a valid API key (https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys)."}})
		return
	}
	req, problem := decode(r)
	if problem == "" {
		problem = f.check(req)
	}
	if problem != "" {
		reply(w, http.StatusBadRequest, map[string]any{"errors": []string{problem}})
		return
	}
	reply(w, http.StatusOK, f.create(req))
}

func decode(r *http.Request) (request, string) {
	var req request
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return req, "Content-Type must be application/json"
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return req, "unreadable body"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, "invalid JSON: " + err.Error()
	}
	return req, ""
}

func (f *Fake) check(req request) string {
	switch {
	case req.AppID == "":
		return "You must include an app_id"
	case req.AppID != f.appID:
		return fmt.Sprintf("app_id %q is not an app of this API key", req.AppID)
	case req.Contents["en"] == "":
		return "Message Notifications must have English language content"
	case len(req.IncludedSegments) == 0 && len(req.IncludeAliases) == 0:
		return "You must include which players, segments, or tags you wish to send this notification to."
	case len(req.IncludedSegments) > 0 && len(req.IncludeAliases) > 0:
		return "Segments and aliases cannot be combined"
	case req.TargetChannel != "" && req.TargetChannel != "push" && req.TargetChannel != "email" && req.TargetChannel != "sms":
		return "target_channel must be push, email or sms"
	case req.IdempotencyKey != "" && !uuid.MatchString(req.IdempotencyKey):
		return "idempotency_key must be a UUID"
	}
	if _, ok := req.Headings["en"]; len(req.Headings) > 0 && !ok {
		return "headings must include English"
	}
	for _, s := range req.IncludedSegments {
		if !f.segments[s] {
			return fmt.Sprintf("Segment %q does not exist", s)
		}
	}
	return ""
}

func (f *Fake) create(req request) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.byKey[req.IdempotencyKey]; ok && req.IdempotencyKey != "" {
		f.duplicates++
		return map[string]any{"id": id, "external_id": nil}
	}
	if f.noSubscribers {
		return map[string]any{"id": "", "errors": []string{"All included players are not subscribed"}}
	}
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(f.notifications)+1)
	if req.IdempotencyKey != "" {
		f.byKey[req.IdempotencyKey] = id
	}
	f.notifications = append(f.notifications, Notification{ID: id, Segments: req.IncludedSegments,
		Headings: req.Headings, Contents: req.Contents, IdempotencyKey: req.IdempotencyKey})
	return map[string]any{"id": id, "external_id": nil}
}

func (f *Fake) injected(w http.ResponseWriter) bool {
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
	reply(w, fl.status, map[string]any{"errors": []string{http.StatusText(fl.status)}})
	return true
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
