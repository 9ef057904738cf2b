package meta

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
	"github.com/trackstack/trackstack/runtime/forward/meta/metafake"
)

const (
	pixelID = "1234567890"
	token   = "EAAG-secret-token-value"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func destination(endpoint, testCode string) config.Destination {
	return config.Destination{Name: "fb", Type: v1alpha1.DestinationMeta, Meta: &v1alpha1.MetaDestination{
		Endpoint: v1alpha1.Endpoint{Endpoint: endpoint}, PixelID: pixelID, TestEventCode: testCode,
	}}
}

// newAgainstFake returns a Platform sending to a fresh fake, both on the
// same fixed clock.
func newAgainstFake(t *testing.T, testCode string) (*Platform, *metafake.Fake) {
	t.Helper()
	fake := metafake.New(pixelID, token)
	fake.SetClock(func() time.Time { return now })
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := New(destination(srv.URL, testCode), forward.Credentials{"accessToken": token}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	p.now = func() time.Time { return now }
	return p, fake
}

func webEvent(id string, age time.Duration) event.Event {
	return event.Event{
		Site: "shop", EventID: id, Type: event.TypeConversion, Name: "purchase",
		Timestamp: now.Add(-age), URL: "https://shop.example.com/thanks",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", ClickIDs: map[string]string{},
	}
}

func TestNew(t *testing.T) {
	good := destination("", "")
	tests := []struct {
		name  string
		d     config.Destination
		creds forward.Credentials
		want  string
	}{
		{"no block", config.Destination{Name: "fb"}, forward.Credentials{"accessToken": token}, "meta settings block is missing"},
		{"no pixel", config.Destination{Name: "fb", Meta: &v1alpha1.MetaDestination{}}, forward.Credentials{"accessToken": token}, "meta.pixelID is empty"},
		{"no token", good, forward.Credentials{}, `credential "accessToken" is missing`},
		{"bad endpoint", destination("ftp://proxy", ""), forward.Credentials{"accessToken": token}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.d, tt.creds, http.DefaultClient)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	p, err := New(good, forward.Credentials{"accessToken": token}, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://graph.facebook.com/v26.0/" + pixelID + "/events"; p.url != want {
		t.Fatalf("url = %s, want %s", p.url, want)
	}
	if strings.Contains(p.url, token) {
		t.Fatal("the token is in the URL")
	}
}

// TestHashExamples holds the adapter to the examples in Meta's own
// documentation, both for values ingest hashed and for raw values that
// reach the adapter unhashed.
func TestHashExamples(t *testing.T) {
	const (
		emDigest = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
		phDigest = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
		fnDigest = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"
	)
	ingested := enrich.HashUser(enrich.RawUser{Email: "John_Smith@gmail.com", Phone: "(650)555-1212", FirstName: "Mary", Country: "US"})
	tests := []struct {
		name           string
		user           event.User
		wantEm, wantPh string
		wantFn         string
	}{
		{"hashed by ingest", ingested, emDigest, phDigest, fnDigest},
		{"raw values", event.User{EmailSHA256: " John_Smith@gmail.com ", PhoneSHA256: "+1 (650) 555-1212", FirstNameSHA256: "Mary"}, emDigest, phDigest, fnDigest},
		{"upper-case digests pass through", event.User{EmailSHA256: strings.ToUpper(emDigest), PhoneSHA256: phDigest, FirstNameSHA256: strings.ToUpper(fnDigest)}, emDigest, phDigest, fnDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, "")
			e := webEvent("e1", time.Hour)
			v := 10.0
			e.Value, e.Currency, e.User = &v, "EUR", tt.user
			out, err := p.Send(context.Background(), []forward.Item{{Event: e, Name: "Purchase"}})
			if err != nil || out[0].Status != forward.Sent {
				t.Fatalf("Send = %+v, %v", out, err)
			}
			u := fake.Events()[0].UserData
			if got := []string{u.Email[0], u.Phone[0], u.FirstName[0]}; got[0] != tt.wantEm || got[1] != tt.wantPh || got[2] != tt.wantFn {
				t.Fatalf("em, ph, fn = %v, want %s %s %s", got, tt.wantEm, tt.wantPh, tt.wantFn)
			}
		})
	}
}

func TestSendPayload(t *testing.T) {
	p, fake := newAgainstFake(t, "TEST123")
	withClick := webEvent("click", 2*time.Hour)
	withClick.ClickIDs["fbclid"] = "IwAR2xYz_verbatim-Id"
	withClick.RawIP = "203.0.113.9"
	withClick.FBP = "fb.1.1700000000000.123456789"
	withClick.UserID = "  User-42 "
	v := 49.9
	withClick.Value, withClick.Currency, withClick.OrderID = &v, "eur", "o-1"
	withClick.Properties = json.RawMessage(`{"content_ids":["A1",7],"contents":[{"id":"A1","quantity":2,"item_price":20}]}`)
	withCookie := webEvent("cookie", time.Hour)
	withCookie.ClickIDs["fbclid"] = "ignored"
	withCookie.FBC = "fb.1.1699999999999.fromcookie"

	out, err := p.Send(context.Background(), []forward.Item{{Event: withClick, Name: "Purchase"}, {Event: withCookie, Name: "Lead"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Status != forward.Sent || o.ResponseID != "FAKETRACE000001" {
			t.Fatalf("outcome %d = %+v, want sent with the fbtrace_id", i, o)
		}
	}
	got := fake.Events()
	if len(got) != 2 || fake.TestEventCodes()[0] != "TEST123" {
		t.Fatalf("fake got %d events, test codes %v", len(got), fake.TestEventCodes())
	}
	first, second := got[0], got[1]
	wantFBC := "fb.1." + itoa(withClick.Timestamp.UnixMilli()) + ".IwAR2xYz_verbatim-Id"
	checks := []struct{ name, got, want string }{
		{"event_name", first.EventName, "Purchase"},
		{"event_id", first.EventID, "click"},
		{"event_time", itoa(*first.EventTime), itoa(withClick.Timestamp.Unix())},
		{"action_source", first.ActionSource, "website"},
		{"event_source_url", first.EventSourceURL, withClick.URL},
		{"fbc from fbclid", first.UserData.FBC, wantFBC},
		{"fbp", first.UserData.FBP, withClick.FBP},
		{"client_ip_address", first.UserData.ClientIPAddress, "203.0.113.9"},
		{"client_user_agent", first.UserData.ClientUserAgent, withClick.UserAgent},
		{"external_id", first.UserData.ExternalID[0], enrich.SHA256Hex("user-42")},
		{"custom_data", string(first.CustomData["value"]) + string(first.CustomData["currency"]) + string(first.CustomData["order_id"]), `49.9"EUR""o-1"`},
		{"content_ids", string(first.CustomData["content_ids"]), `["A1","7"]`},
		{"contents", string(first.CustomData["contents"]), `[{"id":"A1","quantity":2,"item_price":20}]`},
		{"fbc from cookie", second.UserData.FBC, withCookie.FBC},
		{"no ip when none kept", second.UserData.ClientIPAddress, ""},
		{"no custom_data", strings.Join(keys(second.CustomData), ","), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

// TestRejectedBeforeSending: what Meta would refuse (and with it the whole
// batch) is Failed with a reason and never reaches Meta.
func TestRejectedBeforeSending(t *testing.T) {
	v := 5.0
	tests := []struct {
		name   string
		edit   func(*event.Event)
		event  string
		reason string
	}{
		{"older than 7 days", func(e *event.Event) { e.Timestamp = now.Add(-MaxAge - time.Second) }, "Lead", "older than 7 days"},
		{"within the margin of 7 days", func(e *event.Event) { e.Timestamp = now.Add(-MaxAge + 30*time.Second) }, "Lead", "older than 7 days"},
		{"no URL", func(e *event.Event) { e.URL = "" }, "Lead", "event_source_url"},
		{"no user agent", func(e *event.Event) { e.UserAgent = "" }, "Lead", "client_user_agent"},
		{"purchase without currency", func(e *event.Event) { e.Value = &v }, "Purchase", "value or currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, "")
			bad := webEvent("bad", time.Hour)
			tt.edit(&bad)
			items := []forward.Item{{Event: webEvent("good", 6*24*time.Hour), Name: "Lead"}, {Event: bad, Name: tt.event}}
			out, err := p.Send(context.Background(), items)
			if err != nil {
				t.Fatal(err)
			}
			if out[0].Status != forward.Sent {
				t.Fatalf("good event: %+v", out[0])
			}
			if out[1].Status != forward.Failed || !strings.Contains(out[1].Reason, tt.reason) {
				t.Fatalf("bad event: %+v, want failed because of %q", out[1], tt.reason)
			}
			if ev := fake.Events(); len(ev) != 1 || ev[0].EventID != "good" {
				t.Fatalf("fake received %+v, want only the good event", ev)
			}
			out, err = p.Send(context.Background(), items[1:])
			if err != nil || out[0].Status != forward.Failed || fake.Requests() != 1 {
				t.Fatalf("a batch of only bad events: %+v, %v, %d requests; want no request", out, err, fake.Requests())
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name   string
		status int
		token  string
		want   forward.Kind
	}{
		{"5xx", http.StatusServiceUnavailable, token, forward.Transient},
		{"429", http.StatusTooManyRequests, token, forward.Transient},
		{"expired token", http.StatusUnauthorized, token, forward.Auth},
		{"wrong token", 0, "EAAG-wrong", forward.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, "")
			p.token = tt.token
			if tt.status != 0 {
				fake.FailNext(1, tt.status)
			}
			out, err := p.Send(context.Background(), []forward.Item{{Event: webEvent("e", time.Hour), Name: "Lead"}})
			var fe *forward.Error
			if !errors.As(err, &fe) || fe.Kind != tt.want || out != nil {
				t.Fatalf("Send = %v, %v; want a %s error", out, err, tt.want)
			}
			if !strings.Contains(fe.Message, "fbtrace_id FAKETRACE") {
				t.Fatalf("message %q lacks Meta's fbtrace_id", fe.Message)
			}
			if len(fake.Events()) != 0 {
				t.Fatal("the fake recorded events of a failed request")
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   forward.Kind
	}{
		{"is_transient wins over 400", 400, `{"error":{"message":"x","code":1,"is_transient":true}}`, forward.Transient},
		{"OAuth 190 on a 400", 400, `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`, forward.Auth},
		{"403", 403, `{"error":{"message":"Permissions error","code":10}}`, forward.Auth},
		{"throttled user", 400, `{"error":{"message":"User request limit reached","code":17}}`, forward.Transient},
		{"invalid parameter", 400, `{"error":{"message":"Invalid parameter","code":100,"error_subcode":2804003}}`, forward.Permanent},
		{"500 without JSON", 500, `<html>oops</html>`, forward.Transient},
		{"404 without JSON", 404, `not found`, forward.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := classify(&http.Response{StatusCode: tt.status, Header: http.Header{}}, []byte(tt.body))
			if e.Kind != tt.want || e.Status != tt.status || e.Message == "" {
				t.Fatalf("classify = %+v, want kind %s", e, tt.want)
			}
		})
	}
}

// TestNoSecretInErrors: neither a connection error (whose *url.Error names
// the URL) nor an answer that echoes the request may carry the token.
func TestNoSecretInErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "bad token " + b["access_token"].(string), "code": 100}})
	}))
	defer echo.Close()
	for _, srv := range []*httptest.Server{closed, echo} {
		p, err := New(destination(srv.URL, ""), forward.Credentials{"accessToken": token}, &http.Client{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		p.now = func() time.Time { return now }
		_, err = p.Send(context.Background(), []forward.Item{{Event: webEvent("e", time.Hour), Name: "Lead"}})
		if err == nil {
			t.Fatal("Send succeeded against a failing server")
		}
		if strings.Contains(err.Error(), token) {
			t.Fatalf("error %q carries the token", err)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func keys(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
