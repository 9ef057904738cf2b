package pinterestfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	account  = "549755885175"
	token    = "pina_secret"
	emDigest = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	path     = "/v5/ad_accounts/" + account + "/events"
)

func newFake(t *testing.T) *Fake {
	t.Helper()
	f, err := New(account, token)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func goodEvent() map[string]any {
	return map[string]any{
		"event_name": "checkout", "action_source": "web", "event_time": 1763640000, "event_id": "e1",
		"event_source_url": "https://shop.example.com/thanks",
		"user_data":        map[string]any{"em": []string{emDigest}},
		"custom_data":      map[string]any{"value": "49.90", "currency": "EUR", "order_id": "o1", "contents": []any{map[string]any{"id": "A", "item_price": "10", "quantity": 2}}},
	}
}

func do(f *Fake, target, tok string, body any) (int, []byte) {
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(raw)))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func TestAccepts(t *testing.T) {
	f := newFake(t)
	ipUA := goodEvent()
	ipUA["user_data"] = map[string]any{"client_ip_address": "203.0.113.5", "client_user_agent": "Mozilla/5.0"}
	status, raw := do(f, path, token, map[string]any{"data": []any{goodEvent(), ipUA}})
	var a Answer
	if err := json.Unmarshal(raw, &a); err != nil || status != 200 || a.NumEventsProcessed != 2 || a.Events[1].Status != "processed" {
		t.Fatalf("answer %d %s", status, raw)
	}
	if ev := f.Events(); len(ev) != 2 || *ev[0].CustomData.Value != "49.90" || ev[0].UserData.Email[0] != emDigest {
		t.Fatalf("recorded %+v", ev)
	}
	if status, _ := do(f, path+"?test=true", token, map[string]any{"data": []any{goodEvent()}}); status != 200 || len(f.Events()) != 2 {
		t.Fatalf("test request: %d, %d events recorded", status, len(f.Events()))
	}
	if tests := f.Tests(); len(tests) != 2 || tests[0] || !tests[1] {
		t.Fatalf("Tests() = %v", tests)
	}
}

// TestRejectsWholeRequest: problems of the request itself answer an error
// object, nothing per event.
func TestRejectsWholeRequest(t *testing.T) {
	many := make([]any, MaxEvents+1)
	for i := range many {
		many[i] = goodEvent()
	}
	tests := []struct {
		name   string
		target string
		tok    string
		body   any
		status int
		want   string
	}{
		{"wrong account", "/v5/ad_accounts/1/events", token, map[string]any{"data": []any{goodEvent()}}, 404, "not found"},
		{"no token", path, "", map[string]any{"data": []any{goodEvent()}}, 401, "Authentication failed"},
		{"wrong token", path, "other", map[string]any{"data": []any{goodEvent()}}, 401, "Authentication failed"},
		{"not an object", path, token, []any{goodEvent()}, 400, "not a JSON object"},
		{"no data", path, token, map[string]any{}, 400, "data must be an array"},
		{"extra top-level field", path, token, map[string]any{"data": []any{goodEvent()}, "test": true}, 400, `unknown field "test"`},
		{"empty data", path, token, map[string]any{"data": []any{}}, 400, "1 to 1000"},
		{"too many", path, token, map[string]any{"data": many}, 400, "1 to 1000"},
		{"bad test flag", path + "?test=yes", token, map[string]any{"data": []any{goodEvent()}}, 400, "test must be a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			status, raw := do(f, tt.target, tt.tok, tt.body)
			var e ErrorAnswer
			if err := json.Unmarshal(raw, &e); err != nil || status != tt.status || !strings.Contains(e.Message, tt.want) || e.Code == 0 {
				t.Fatalf("answer %d %s, want %d with %q", status, raw, tt.status, tt.want)
			}
		})
	}
}

// TestRejectsEvents: a bad event fails alone, with 422 and per-event
// statuses in request order; the schema and the prose rules both bite.
func TestRejectsEvents(t *testing.T) {
	user := func(ev map[string]any) map[string]any { return ev["user_data"].(map[string]any) }
	custom := func(ev map[string]any) map[string]any { return ev["custom_data"].(map[string]any) }
	tests := []struct {
		name   string
		change func(ev map[string]any)
		want   string
	}{
		{"no email and no IP/UA pair", func(ev map[string]any) {
			ev["user_data"] = map[string]any{"client_user_agent": "Mozilla/5.0", "ph": []string{emDigest}}
		}, "anyOf"},
		{"IP without user agent", func(ev map[string]any) { ev["user_data"] = map[string]any{"client_ip_address": "203.0.113.5"} }, "client_user_agent"},
		{"email as a string", func(ev map[string]any) { user(ev)["em"] = emDigest }, "want array"},
		{"value as a number", func(ev map[string]any) { custom(ev)["value"] = 49.9 }, "want string"},
		{"no event_id", func(ev map[string]any) { delete(ev, "event_id") }, "event_id"},
		{"unknown event field", func(ev map[string]any) { ev["event_category"] = "x" }, "additional"},
		{"unknown custom_data field", func(ev map[string]any) { custom(ev)["revenue"] = "1" }, "additional"},
		{"event_time as a string", func(ev map[string]any) { ev["event_time"] = "1763640000" }, "want integer"},
		{"unknown event name", func(ev map[string]any) { ev["event_name"] = "purchase" }, "not a supported event name"},
		{"unknown action source", func(ev map[string]any) { ev["action_source"] = "website" }, "not a supported action source"},
		{"unhashed email", func(ev map[string]any) { user(ev)["em"] = []string{"john_smith@gmail.com"} }, "user_data.em must hold SHA-256"},
		{"upper-case external_id", func(ev map[string]any) { user(ev)["external_id"] = []string{strings.ToUpper(emDigest)} }, "user_data.external_id"},
		{"value not a number", func(ev map[string]any) { custom(ev)["value"] = "49,90 EUR" }, "not a decimal"},
		{"lower-case currency", func(ev map[string]any) { custom(ev)["currency"] = "eur" }, "ISO 4217"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			bad := goodEvent()
			bad["event_id"] = "bad"
			tt.change(bad)
			status, raw := do(f, path, token, map[string]any{"data": []any{goodEvent(), bad}})
			var a Answer
			if err := json.Unmarshal(raw, &a); err != nil || status != http.StatusUnprocessableEntity {
				t.Fatalf("answer %d %s, want 422", status, raw)
			}
			if a.NumEventsReceived != 2 || a.NumEventsProcessed != 1 || a.Events[0].Status != "processed" ||
				a.Events[1].Status != "failed" || !strings.Contains(a.Events[1].ErrorMessage, tt.want) {
				t.Fatalf("answer %+v, want the second event failed with %q", a, tt.want)
			}
			if ev := f.Events(); len(ev) != 1 || ev[0].EventID != "e1" {
				t.Fatalf("recorded %+v, want only the good event", ev)
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	f := newFake(t)
	f.FailNext(1, http.StatusServiceUnavailable)
	f.FailNext(1, http.StatusTooManyRequests)
	for i, want := range []int{503, 429, 200} {
		if status, raw := do(f, path, token, map[string]any{"data": []any{goodEvent()}}); status != want {
			t.Fatalf("request %d: %d %s, want %d", i, status, raw, want)
		}
	}
	if f.Requests() != 3 || len(f.Events()) != 1 {
		t.Fatalf("requests %d, events %d", f.Requests(), len(f.Events()))
	}
}

// TestConcurrent: the fake is shared by parallel senders (run with -race).
func TestConcurrent(t *testing.T) {
	f := newFake(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	raw, _ := json.Marshal(map[string]any{"data": []any{goodEvent()}})
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(string(raw)))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if f.Requests() != n || len(f.Events()) != n {
		t.Fatalf("requests %d, events %d; want %d each", f.Requests(), len(f.Events()), n)
	}
}
