package pinterest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/pinterest/pinterestfake"
)

const (
	account = "549755885175"
	token   = "pina_secret_conversion_token"
	// Meta's documented examples: Pinterest normalizes the same way.
	emDigest = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" // john_smith@gmail.com
	phDigest = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176" // 16505551212
	fnDigest = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec" // mary
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func destination(endpoint string, test bool) config.Destination {
	return config.Destination{Name: "pin", Type: v1alpha1.DestinationPinterest, Pinterest: &v1alpha1.PinterestDestination{
		Endpoint: v1alpha1.Endpoint{Endpoint: endpoint}, AdAccountID: account, Test: test,
	}}
}

func newAgainstFake(t *testing.T, test bool) (*Platform, *pinterestfake.Fake) {
	t.Helper()
	fake, err := pinterestfake.New(account, token)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := New(destination(srv.URL, test), forward.Credentials{"accessToken": token}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func webEvent(id string) event.Event {
	return event.Event{
		Site: "shop", EventID: id, Type: event.TypeConversion, Name: "purchase", Timestamp: now.Add(-time.Hour),
		URL: "https://shop.example.com/thanks", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
		ClickIDs: map[string]string{}, User: event.User{EmailSHA256: emDigest},
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name  string
		d     config.Destination
		creds forward.Credentials
		want  string
	}{
		{"no block", config.Destination{Name: "pin"}, forward.Credentials{"accessToken": token}, "pinterest settings block is missing"},
		{"no account", config.Destination{Name: "pin", Pinterest: &v1alpha1.PinterestDestination{}}, forward.Credentials{"accessToken": token}, "pinterest.adAccountID is empty"},
		{"no token", destination("", false), forward.Credentials{}, `credential "accessToken" is missing`},
		{"bad endpoint", destination("//host-only", false), forward.Credentials{"accessToken": token}, "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.d, tt.creds, http.DefaultClient); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	for test, want := range map[bool]string{
		false: "https://api.pinterest.com/v5/ad_accounts/" + account + "/events",
		true:  "https://api.pinterest.com/v5/ad_accounts/" + account + "/events?test=true",
	} {
		if p, err := New(destination("", test), forward.Credentials{"accessToken": token}, http.DefaultClient); err != nil || p.url != want {
			t.Fatalf("test=%v: url %v, %v; want %s", test, p, err, want)
		}
	}
}

func TestHashExamples(t *testing.T) {
	ingested := enrich.HashUser(enrich.RawUser{Email: "John_Smith@gmail.com", Phone: "(650)555-1212", FirstName: "Mary", Country: "US"})
	tests := []struct {
		name string
		user event.User
	}{
		{"hashed by ingest", ingested},
		{"raw values", event.User{EmailSHA256: "John_Smith@gmail.com", PhoneSHA256: "+1 650 555 1212", FirstNameSHA256: " Mary "}},
		{"upper-case digests", event.User{EmailSHA256: strings.ToUpper(emDigest), PhoneSHA256: strings.ToUpper(phDigest), FirstNameSHA256: fnDigest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, false)
			e := webEvent("e1")
			e.User = tt.user
			if out, err := p.Send(context.Background(), []forward.Item{{Event: e, Name: "checkout"}}); err != nil || out[0].Status != forward.Sent {
				t.Fatalf("Send = %+v, %v", out, err)
			}
			u := fake.Events()[0].UserData
			if len(u.Email) != 1 || u.Email[0] != emDigest || u.Phone[0] != phDigest || u.FirstName[0] != fnDigest {
				t.Fatalf("em, ph, fn = %v %v %v", u.Email, u.Phone, u.FirstName)
			}
		})
	}
}

func TestSendPayload(t *testing.T) {
	p, fake := newAgainstFake(t, false)
	buy := webEvent("buy")
	buy.UserID, buy.RawIP = " Shopper-7 ", "203.0.113.7"
	buy.ClickIDs["epik"] = "dj0yJnU9b2JDcFFH"
	v := 49.9
	buy.Value, buy.Currency, buy.OrderID = &v, "eur", "o-1"
	buy.Properties = json.RawMessage(`{"content_ids":["A"],"contents":[{"id":"A","quantity":2,"price":24.95,"name":"Mug"}]}`)
	ipOnly := webEvent("visit")
	ipOnly.User = event.User{}
	ipOnly.RawIP = "2001:db8::1"

	out, err := p.Send(context.Background(), []forward.Item{{Event: buy, Name: "checkout"}, {Event: ipOnly, Name: "page_visit"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Status != forward.Sent || o.ResponseID != "fakerid000001" {
			t.Fatalf("outcome %d = %+v", i, o)
		}
	}
	got := fake.Events()
	b, v2 := got[0], got[1]
	checks := []struct{ name, got, want string }{
		{"event_name", b.EventName, "checkout"},
		{"action_source", b.ActionSource, "web"},
		{"event_time", itoa(b.EventTime), itoa(buy.Timestamp.Unix())},
		{"event_id", b.EventID, "buy"},
		{"event_source_url", b.EventSourceURL, buy.URL},
		{"external_id", b.UserData.ExternalID[0], enrich.SHA256Hex("shopper-7")},
		{"client_ip_address", b.UserData.ClientIPAddress, "203.0.113.7"},
		{"client_user_agent", b.UserData.ClientUserAgent, buy.UserAgent},
		{"click_id", b.UserData.ClickID, "dj0yJnU9b2JDcFFH"},
		{"value is a string", *b.CustomData.Value, "49.9"},
		{"currency", b.CustomData.Currency, "EUR"},
		{"order_id", b.CustomData.OrderID, "o-1"},
		{"contents", b.CustomData.Contents[0].ID + " " + b.CustomData.Contents[0].ItemPrice + " " + itoa(b.CustomData.Contents[0].Quantity), "A 24.95 2"},
		{"num_items", itoa(b.CustomData.NumItems), "2"},
		{"ip and UA without email", v2.UserData.ClientIPAddress + " " + strings.Join(v2.UserData.Email, ""), "2001:db8::1 "},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestTestMode(t *testing.T) {
	p, fake := newAgainstFake(t, true)
	out, err := p.Send(context.Background(), []forward.Item{{Event: webEvent("e"), Name: "lead"}})
	if err != nil || out[0].Status != forward.Sent {
		t.Fatalf("Send = %+v, %v", out, err)
	}
	if tests := fake.Tests(); len(tests) != 1 || !tests[0] || len(fake.Events()) != 0 {
		t.Fatalf("fake saw tests %v and recorded %d events; want one test request, nothing recorded", tests, len(fake.Events()))
	}
}

func TestRejectedBeforeSending(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*event.Event)
		evName string
		reason string
	}{
		{"no email, no IP", func(e *event.Event) { e.User = event.User{} }, "lead", "neither an email nor both"},
		{"no email, IP but no UA", func(e *event.Event) { e.User, e.RawIP, e.UserAgent = event.User{}, "203.0.113.1", "" }, "lead", "neither an email nor both"},
		{"email that normalizes to nothing", func(e *event.Event) { e.User = event.User{EmailSHA256: "not-an-email"} }, "lead", "neither an email nor both"},
		{"unknown event name", func(*event.Event) {}, "Purchase", "not one of Pinterest's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, false)
			bad := webEvent("bad")
			tt.edit(&bad)
			out, err := p.Send(context.Background(), []forward.Item{{Event: bad, Name: tt.evName}, {Event: webEvent("ok"), Name: "lead"}})
			if err != nil || out[0].Status != forward.Failed || !strings.Contains(out[0].Reason, tt.reason) || out[1].Status != forward.Sent {
				t.Fatalf("Send = %+v, %v; want the first failed because of %q", out, err, tt.reason)
			}
			if ev := fake.Events(); len(ev) != 1 || ev[0].EventID != "ok" {
				t.Fatalf("fake received %+v", ev)
			}
		})
	}
}

// TestPerEventOutcomes: when Pinterest fails some events (422), each item
// gets its own outcome, in order. The adapter sends nothing the fake would
// fail, so a canned server gives the mixed answer.
func TestPerEventOutcomes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-pinterest-rid", "rid-9")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"num_events_received":3,"num_events_processed":2,"events":[
			{"status":"processed"},{"status":"failed","error_message":"event_time is too old"},{"status":"processed","warning_message":"w"}]}`))
	}))
	defer srv.Close()
	p, err := New(destination(srv.URL, false), forward.Credentials{"accessToken": token}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	items := []forward.Item{{Event: webEvent("a"), Name: "lead"}, {Event: webEvent("b"), Name: "lead"}, {Event: webEvent("c"), Name: "lead"}}
	out, err := p.Send(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	want := []forward.Status{forward.Sent, forward.Failed, forward.Sent}
	for i, o := range out {
		if o.Status != want[i] || o.ResponseID != "rid-9" {
			t.Fatalf("outcome %d = %+v, want %s", i, o, want[i])
		}
	}
	if !strings.Contains(out[1].Reason, "event_time is too old") {
		t.Fatalf("reason %q lacks Pinterest's message", out[1].Reason)
	}
}

func TestAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   forward.Kind
	}{
		{"bad request", 400, `{"code":1,"message":"Invalid request body"}`, forward.Permanent},
		{"422 without statuses", 422, `{"code":4,"message":"x","details":{}}`, forward.Permanent},
		{"statuses for fewer events", 200, `{"events":[{"status":"processed"}]}`, forward.Transient},
		{"200 without statuses", 200, `{}`, forward.Transient},
		{"forbidden", 403, `{"code":29,"message":"You are not permitted"}`, forward.Auth},
		{"rate limit", 429, `{"code":8,"message":"slow down"}`, forward.Transient},
		{"gateway", 502, `<html>bad gateway</html>`, forward.Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			p, err := New(destination(srv.URL, false), forward.Credentials{"accessToken": token}, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.Send(context.Background(), []forward.Item{{Event: webEvent("a"), Name: "lead"}, {Event: webEvent("b"), Name: "lead"}})
			var fe *forward.Error
			if !errors.As(err, &fe) || fe.Kind != tt.want || out != nil {
				t.Fatalf("Send = %v, %v; want a %s error", out, err, tt.want)
			}
		})
	}
}

func TestSendFailuresAgainstFake(t *testing.T) {
	tests := []struct {
		name   string
		status int
		token  string
		want   forward.Kind
	}{
		{"503", http.StatusServiceUnavailable, token, forward.Transient},
		{"429", http.StatusTooManyRequests, token, forward.Transient},
		{"wrong token", 0, "pina_wrong", forward.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, false)
			p.token = tt.token
			if tt.status != 0 {
				fake.FailNext(1, tt.status)
			}
			_, err := p.Send(context.Background(), []forward.Item{{Event: webEvent("e"), Name: "lead"}})
			var fe *forward.Error
			if !errors.As(err, &fe) || fe.Kind != tt.want || !strings.Contains(fe.Message, "Pinterest: ") {
				t.Fatalf("Send: %v; want a %s error with Pinterest's message", err, tt.want)
			}
		})
	}
}

func TestNoSecretInErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(map[string]any{"events": []any{map[string]any{"status": "failed", "error_message": "bad " + r.Header.Get("Authorization")}}})
	}))
	defer echo.Close()
	echoErr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 2, "message": "bad " + r.Header.Get("Authorization")})
	}))
	defer echoErr.Close()
	for _, srv := range []*httptest.Server{closed, echo, echoErr} {
		p, err := New(destination(srv.URL, false), forward.Credentials{"accessToken": token}, &http.Client{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Send(context.Background(), []forward.Item{{Event: webEvent("e"), Name: "lead"}})
		text := ""
		if err != nil {
			text = err.Error()
		}
		for _, o := range out {
			text += o.Reason
		}
		if text == "" || strings.Contains(text, token) {
			t.Fatalf("error/reasons %q: want a failure without the token", text)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestDefaultEvents: every default maps to a name Pinterest accepts.
func TestDefaultEvents(t *testing.T) {
	p := &Platform{}
	for from, to := range p.DefaultEvents() {
		if !eventNames[to] || !pinterestfake.EventNames[to] {
			t.Errorf("%s maps to %q, not a Pinterest event name", from, to)
		}
	}
	if p.DefaultEvents()["purchase"] != "checkout" {
		t.Error("purchase does not map to checkout")
	}
}
