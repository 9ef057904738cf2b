package tiktokfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	pixel    = "CABCDEFGHIJ12345"
	token    = "tt-token"
	emDigest = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
)

func goodBody() map[string]any {
	return map[string]any{
		"event_source": "web", "event_source_id": pixel, "test_event_code": "T1",
		"data": []any{goodEvent()},
	}
}

func goodEvent() map[string]any {
	return map[string]any{
		"event": "CompletePayment", "event_time": time.Now().Unix(), "event_id": "e1",
		"user":       map[string]any{"email": emDigest, "ip": "203.0.113.1", "user_agent": "Mozilla/5.0"},
		"properties": map[string]any{"value": 10.5, "currency": "EUR", "contents": []any{map[string]any{"content_id": "A", "quantity": 1}}},
		"page":       map[string]any{"url": "https://shop.example.com/"},
	}
}

func do(f *Fake, path, tok string, body any) (int, Answer) {
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(raw)))
	if tok != "" {
		req.Header.Set("Access-Token", tok)
	}
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, req)
	var a Answer
	_ = json.Unmarshal(rec.Body.Bytes(), &a)
	return rec.Code, a
}

const track = "/open_api/v1.3/event/track/"

func TestAccepts(t *testing.T) {
	f := New(pixel, token)
	status, a := do(f, track, token, goodBody())
	if status != 200 || a.Code != 0 || a.RequestID == "" {
		t.Fatalf("answer %d %+v", status, a)
	}
	if len(f.Events()) != 1 || f.TestEventCodes()[0] != "T1" || f.Events()[0].User.Email[0] != emDigest {
		t.Fatalf("recorded %+v %v", f.Events(), f.TestEventCodes())
	}
}

func TestRejects(t *testing.T) {
	event := func(change func(ev map[string]any)) map[string]any {
		b := goodBody()
		ev := goodEvent()
		change(ev)
		b["data"] = []any{ev}
		return b
	}
	body := func(change func(b map[string]any)) map[string]any {
		b := goodBody()
		change(b)
		return b
	}
	user := func(ev map[string]any) map[string]any { return ev["user"].(map[string]any) }
	props := func(ev map[string]any) map[string]any { return ev["properties"].(map[string]any) }
	many := make([]any, MaxEvents+1)
	for i := range many {
		many[i] = goodEvent()
	}
	tests := []struct {
		name   string
		path   string
		tok    string
		body   map[string]any
		status int
		code   int
		want   string
	}{
		{"wrong path", "/open_api/v1.2/event/track/", token, goodBody(), 404, CodeInvalidParam, "Path not found"},
		{"no token", track, "", goodBody(), 200, CodeTokenEmpty, "empty"},
		{"wrong token", track, "nope", goodBody(), 200, CodeTokenInvalid, "incorrect"},
		{"not web", track, token, body(func(b map[string]any) { b["event_source"] = "app" }), 200, CodeInvalidParam, "event_source"},
		{"other pixel", track, token, body(func(b map[string]any) { b["event_source_id"] = "OTHER" }), 200, CodeInvalidParam, "event_source_id"},
		{"unknown field", track, token, body(func(b map[string]any) { b["pixel_code"] = pixel }), 200, CodeInvalidParam, "unknown field"},
		{"no events", track, token, body(func(b map[string]any) { b["data"] = []any{} }), 200, CodeInvalidParam, "1 to 1000"},
		{"too many events", track, token, body(func(b map[string]any) { b["data"] = many }), 200, CodeInvalidParam, "1 to 1000"},
		{"no event", track, token, event(func(ev map[string]any) { delete(ev, "event") }), 200, CodeInvalidParam, "event is required"},
		{"no event_time", track, token, event(func(ev map[string]any) { delete(ev, "event_time") }), 200, CodeInvalidParam, "event_time is required"},
		{"unhashed email", track, token, event(func(ev map[string]any) { user(ev)["email"] = "john@example.com" }), 200, CodeInvalidParam, "user.email"},
		{"upper-case phone digest", track, token, event(func(ev map[string]any) { user(ev)["phone"] = strings.ToUpper(emDigest) }), 200, CodeInvalidParam, "user.phone"},
		{"bad ip", track, token, event(func(ev map[string]any) { user(ev)["ip"] = "203.0.113" }), 200, CodeInvalidParam, "user.ip"},
		{"value without currency", track, token, event(func(ev map[string]any) { delete(props(ev), "currency") }), 200, CodeInvalidParam, "currency is required"},
		{"lower-case currency", track, token, event(func(ev map[string]any) { props(ev)["currency"] = "eur" }), 200, CodeInvalidParam, "ISO 4217"},
		{"content without id", track, token, event(func(ev map[string]any) { props(ev)["contents"] = []any{map[string]any{"quantity": 1}} }), 200, CodeInvalidParam, "content_id is required"},
		{"relative page url", track, token, event(func(ev map[string]any) { ev["page"] = map[string]any{"url": "/thanks"} }), 200, CodeInvalidParam, "page.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := New(pixel, token)
			status, a := do(f, tt.path, tt.tok, tt.body)
			if status != tt.status || a.Code != tt.code || !strings.Contains(a.Message, tt.want) || a.RequestID == "" {
				t.Fatalf("answer %d %+v, want %d code %d with %q", status, a, tt.status, tt.code, tt.want)
			}
			if len(f.Events()) != 0 {
				t.Fatal("a rejected request's events were recorded")
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	f := New(pixel, token)
	f.FailNextCode(1, CodeRateLimit)
	f.FailNextHTTP(1, http.StatusBadGateway)
	wants := []struct{ status, code int }{{200, CodeRateLimit}, {502, CodeSystemError}, {200, CodeOK}}
	for i, w := range wants {
		if status, a := do(f, track, token, goodBody()); status != w.status || a.Code != w.code {
			t.Fatalf("request %d: %d %+v, want %d code %d", i, status, a, w.status, w.code)
		}
	}
	if f.Requests() != 3 || len(f.Events()) != 1 {
		t.Fatalf("requests %d, events %d", f.Requests(), len(f.Events()))
	}
}

// TestConcurrent: the fake is shared by parallel senders (run with -race).
func TestConcurrent(t *testing.T) {
	f := New(pixel, token)
	srv := httptest.NewServer(f)
	defer srv.Close()
	raw, _ := json.Marshal(goodBody())
	const n = 20
	errs := make(chan error, n)
	for range n {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+track, strings.NewReader(string(raw)))
			req.Header.Set("Access-Token", token)
			resp, err := srv.Client().Do(req)
			if err == nil {
				var a Answer
				err = json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				if err == nil && a.Code != CodeOK {
					err = fmt.Errorf("code %d: %s", a.Code, a.Message)
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
