package metafake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	pixel = "1234567890"
	token = "secret-token"
	// sha256("john_smith@gmail.com"), Meta's documented example.
	emDigest = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func newFake() *Fake {
	f := New(pixel, token)
	f.SetClock(func() time.Time { return now })
	return f
}

// goodEvent is a valid website event, as JSON fields to edit.
func goodEvent() map[string]any {
	return map[string]any{
		"event_name": "Lead", "event_time": now.Add(-time.Hour).Unix(), "event_id": "e1",
		"action_source": "website", "event_source_url": "https://shop.example.com/",
		"user_data": map[string]any{"em": []string{emDigest}, "client_user_agent": "Mozilla/5.0", "fbc": "fb.1.1700000000000.IwAR"},
	}
}

func post(t *testing.T, f *Fake, path string, body map[string]any) (int, map[string]map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(raw))))
	var answer map[string]map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &answer)
	return rec.Code, answer
}

func events(evs ...map[string]any) map[string]any {
	return map[string]any{"data": evs, "access_token": token}
}

func TestAccepts(t *testing.T) {
	f := newFake()
	code, answer := post(t, f, "/v26.0/"+pixel+"/events", map[string]any{"data": []any{goodEvent()}, "access_token": token, "test_event_code": "T1"})
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, answer)
	}
	if len(f.Events()) != 1 || f.TestEventCodes()[0] != "T1" || f.Events()[0].UserData.Email[0] != emDigest {
		t.Fatalf("recorded %+v, codes %v", f.Events(), f.TestEventCodes())
	}
	// A form body with the token in the query, as Meta also takes it.
	data, _ := json.Marshal([]any{goodEvent()})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v26.0/"+pixel+"/events?access_token="+token, strings.NewReader(url.Values{"data": {string(data)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	f.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || len(f.Events()) != 2 {
		t.Fatalf("form request: %d %s", rec.Code, rec.Body)
	}
}

func TestRejects(t *testing.T) {
	edit := func(change func(ev map[string]any)) map[string]any {
		ev := goodEvent()
		change(ev)
		return events(ev)
	}
	user := func(ev map[string]any) map[string]any { return ev["user_data"].(map[string]any) }
	many := make([]map[string]any, MaxEvents+1)
	for i := range many {
		many[i] = goodEvent()
	}
	tests := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		code   float64
		want   string
	}{
		{"wrong pixel", "/v26.0/999/events", events(goodEvent()), 404, 2500, "Unknown path"},
		{"wrong token", "", map[string]any{"data": []any{goodEvent()}, "access_token": "nope"}, 401, 190, "Invalid OAuth access token"},
		{"no token", "", map[string]any{"data": []any{goodEvent()}}, 401, 190, "Invalid OAuth access token"},
		{"no data", "", map[string]any{"access_token": token}, 400, 100, "data is required"},
		{"too many events", "", events(many...), 400, 100, "1 to 1000 events"},
		{"one event older than 7 days fails all", "", events(goodEvent(), func() map[string]any {
			ev := goodEvent()
			ev["event_time"] = now.Add(-MaxAge - time.Minute).Unix()
			return ev
		}()), 400, 100, "more than 7 days in the past"},
		{"future event", "", edit(func(ev map[string]any) { ev["event_time"] = now.Add(time.Hour).Unix() }), 400, 100, "in the future"},
		{"no event_name", "", edit(func(ev map[string]any) { delete(ev, "event_name") }), 400, 100, "event_name is required"},
		{"bad action_source", "", edit(func(ev map[string]any) { ev["action_source"] = "web" }), 400, 100, "not a valid action source"},
		{"website without URL", "", edit(func(ev map[string]any) { delete(ev, "event_source_url") }), 400, 100, "event_source_url is required"},
		{"website without user agent", "", edit(func(ev map[string]any) { delete(user(ev), "client_user_agent") }), 400, 100, "client_user_agent is required"},
		{"unhashed email", "", edit(func(ev map[string]any) { user(ev)["em"] = "john_smith@gmail.com" }), 400, 100, "user_data.em must be a SHA-256"},
		{"upper-case digest", "", edit(func(ev map[string]any) { user(ev)["external_id"] = strings.ToUpper(emDigest) }), 400, 100, "user_data.external_id must be"},
		{"bad fbc", "", edit(func(ev map[string]any) { user(ev)["fbc"] = "IwAR-only" }), 400, 100, "fbc"},
		{"unknown user_data field", "", edit(func(ev map[string]any) { user(ev)["email"] = emDigest }), 400, 100, "unknown field"},
		{"purchase without value", "", edit(func(ev map[string]any) {
			ev["event_name"] = "Purchase"
			ev["custom_data"] = map[string]any{"currency": "EUR"}
		}), 400, 100, "required for Purchase"},
		{"value as string", "", edit(func(ev map[string]any) { ev["custom_data"] = map[string]any{"value": "10"} }), 400, 100, "value must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			path := tt.path
			if path == "" {
				path = "/v26.0/" + pixel + "/events"
			}
			status, answer := post(t, f, path, tt.body)
			e := answer["error"]
			msg := fmt.Sprint(e["message"], " ", e["error_user_msg"])
			if status != tt.status || e["code"] != tt.code || !strings.Contains(msg, tt.want) || e["fbtrace_id"] == nil {
				t.Fatalf("got %d %v, want %d code %v with %q", status, e, tt.status, tt.code, tt.want)
			}
			if len(f.Events()) != 0 {
				t.Fatal("a rejected request's events were recorded")
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	f := newFake()
	f.FailNext(1, http.StatusInternalServerError)
	f.FailNext(1, http.StatusTooManyRequests)
	wants := []struct {
		status    int
		transient bool
	}{{500, true}, {429, true}, {200, false}}
	for i, w := range wants {
		status, answer := post(t, f, "/v26.0/"+pixel+"/events", events(goodEvent()))
		if status != w.status || (status != 200 && answer["error"]["is_transient"] != w.transient) {
			t.Fatalf("request %d: %d %v, want %d", i, status, answer, w.status)
		}
	}
	if f.Requests() != 3 || len(f.Events()) != 1 {
		t.Fatalf("requests %d, events %d", f.Requests(), len(f.Events()))
	}
}

// TestConcurrent: the fake is shared by parallel senders (run with -race).
func TestConcurrent(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(f)
	defer srv.Close()
	raw, _ := json.Marshal(events(goodEvent()))
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			resp, err := srv.Client().Post(srv.URL+"/v26.0/"+pixel+"/events", "application/json", strings.NewReader(string(raw)))
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
