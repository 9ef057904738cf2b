package onesignalfake_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/forward/onesignal/onesignalfake"
)

const (
	app = "202d4f61-1ca9-42df-9d36-bb17d8123abc"
	key = "k3y"
	ok  = `{"app_id":"` + app + `","included_segments":["Total Subscriptions"],"contents":{"en":"hi"},"idempotency_key":"6f1c2a9e-3b4d-5e6f-8a7b-9c0d1e2f3a4b"}`
)

func call(f *onesignalfake.Fake, auth, body string) (int, map[string]any) {
	req := httptest.NewRequest(http.MethodPost, "/notifications", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

func TestFakeRefusesWhatOneSignalRefuses(t *testing.T) {
	tests := []struct {
		name, auth, body string
		status           int
		says             string
	}{
		{"Basic auth", "Basic " + key, ok, 403, "Access denied"},
		{"wrong key", "Key other", ok, 403, "Access denied"},
		{"other app", "Key " + key, strings.Replace(ok, app, "11111111-1111-4111-8111-111111111111", 1), 400, "app_id"},
		{"no content", "Key " + key, strings.Replace(ok, `"contents":{"en":"hi"}`, `"contents":{"de":"hallo"}`, 1), 400, "English"},
		{"no audience", "Key " + key, strings.Replace(ok, `"included_segments":["Total Subscriptions"],`, "", 1), 400, "segments"},
		{"unknown segment", "Key " + key, strings.Replace(ok, "Total Subscriptions", "Everyone", 1), 400, "does not exist"},
		{"key not a UUID", "Key " + key, strings.Replace(ok, "6f1c2a9e-3b4d-5e6f-8a7b-9c0d1e2f3a4b", "order-1001", 1), 400, "UUID"},
		{"misspelt field", "Key " + key, strings.Replace(ok, "contents", "content", 1), 400, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := onesignalfake.New(app, key)
			status, body := call(f, tt.auth, tt.body)
			if status != tt.status || !strings.Contains(strings.Join(toStrings(body["errors"]), " "), tt.says) {
				t.Errorf("answer %d %v, want %d saying %q", status, body, tt.status, tt.says)
			}
			if len(f.Notifications()) != 0 {
				t.Error("a refused request created a notification")
			}
		})
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i], _ = x.(string)
	}
	return out
}

func TestFakeDeduplicatesOnTheIdempotencyKey(t *testing.T) {
	f := onesignalfake.New(app, key)
	s1, b1 := call(f, "Key "+key, ok)
	s2, b2 := call(f, "Key "+key, ok)
	if s1 != 200 || s2 != 200 || b1["id"] == "" || b1["id"] != b2["id"] {
		t.Errorf("answers %d %v / %d %v, want the same id twice", s1, b1, s2, b2)
	}
	if len(f.Notifications()) != 1 || f.Duplicates() != 1 {
		t.Errorf("notifications %d duplicates %d", len(f.Notifications()), f.Duplicates())
	}
}

func TestFakeWithoutSubscribersAnswers200WithAnEmptyID(t *testing.T) {
	f := onesignalfake.New(app, key)
	f.NoSubscribers()
	status, body := call(f, "Key "+key, ok)
	if status != 200 || body["id"] != "" || len(toStrings(body["errors"])) != 1 {
		t.Errorf("answer %d %v", status, body)
	}
}
