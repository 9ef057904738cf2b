package tiktok

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
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/tiktok/tiktokfake"
)

const (
	pixelCode = "CABCDEFGHIJ12345"
	token     = "tt-secret-access-token"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func destination(endpoint, testCode string) config.Destination {
	return config.Destination{Name: "tt", Type: v1alpha1.DestinationTikTok, TikTok: &v1alpha1.TikTokDestination{
		Endpoint: v1alpha1.Endpoint{Endpoint: endpoint}, PixelCode: pixelCode, TestEventCode: testCode,
	}}
}

func newAgainstFake(t *testing.T, testCode string) (*Platform, *tiktokfake.Fake) {
	t.Helper()
	fake := tiktokfake.New(pixelCode, token)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := New(destination(srv.URL, testCode), forward.Credentials{"accessToken": token}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func webEvent(id string) event.Event {
	return event.Event{
		Site: "shop", EventID: id, Type: event.TypeConversion, Name: "purchase", Timestamp: now.Add(-time.Hour),
		URL: "https://shop.example.com/thanks", Referrer: "https://www.tiktok.com/",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", ClickIDs: map[string]string{},
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name  string
		d     config.Destination
		creds forward.Credentials
		want  string
	}{
		{"no block", config.Destination{Name: "tt"}, forward.Credentials{"accessToken": token}, "tiktok settings block is missing"},
		{"no pixel", config.Destination{Name: "tt", TikTok: &v1alpha1.TikTokDestination{}}, forward.Credentials{"accessToken": token}, "tiktok.pixelCode is empty"},
		{"no token", destination("", ""), forward.Credentials{}, `credential "accessToken" is missing`},
		{"bad endpoint", destination("not a url", ""), forward.Credentials{"accessToken": token}, "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.d, tt.creds, http.DefaultClient); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	p, err := New(destination("", ""), forward.Credentials{"accessToken": token}, http.DefaultClient)
	if err != nil || p.url != "https://business-api.tiktok.com/open_api/v1.3/event/track/" {
		t.Fatalf("New = %v, %v", p, err)
	}
}

// TestHashes: email follows the normalization TikTok shares with Meta
// (Meta's documented example); phone is E.164 with "+" (the documented
// +1 (800) 555-0100 → +18005550100), never Meta's digits-only digest.
func TestHashes(t *testing.T) {
	const (
		emDigest     = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" // john_smith@gmail.com
		phoneE164    = "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30" // +18005550100
		metaPhone    = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176" // 16505551212
		externalUser = "6d894aa3ee802549d7f340e7c1cf0d1c1cb14cd84f768d92ffaa6785337c4997" // user-42
	)
	tests := []struct {
		name                 string
		user                 event.User
		userID               string
		wantEm, wantPh, want string
	}{
		{"stored digests", event.User{EmailSHA256: emDigest, PhoneSHA256: metaPhone, PhoneE164SHA256: phoneE164}, "User-42", emDigest, phoneE164, externalUser},
		{"raw values", event.User{EmailSHA256: "John_Smith@gmail.com", PhoneE164SHA256: "+1 (800) 555-0100"}, " user-42 ", emDigest, phoneE164, externalUser},
		{"upper-case digests", event.User{EmailSHA256: strings.ToUpper(emDigest), PhoneE164SHA256: strings.ToUpper(phoneE164)}, strings.ToUpper(externalUser), emDigest, phoneE164, externalUser},
		{"Meta's phone is never sent", event.User{PhoneSHA256: metaPhone}, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, "")
			e := webEvent("e1")
			e.User, e.UserID = tt.user, tt.userID
			if out, err := p.Send(context.Background(), []forward.Item{{Event: e, Name: "CompletePayment"}}); err != nil || out[0].Status != forward.Sent {
				t.Fatalf("Send = %+v, %v", out, err)
			}
			u := fake.Events()[0].User
			if first(u.Email) != tt.wantEm || first(u.Phone) != tt.wantPh || first(u.ExternalID) != tt.want {
				t.Fatalf("email, phone, external_id = %v %v %v", u.Email, u.Phone, u.ExternalID)
			}
		})
	}
}

func TestSendPayload(t *testing.T) {
	p, fake := newAgainstFake(t, "TEST42")
	e := webEvent("buy-1")
	e.ClickIDs["ttclid"] = "E.C.P.abc123"
	e.RawIP = "2001:db8::7"
	v := 25.5
	e.Value, e.Currency, e.OrderID = &v, "usd", "o-9"
	e.Properties = json.RawMessage(`{"ttp":"2F7h37YkS1j57AYSKTI7IHhJPYH","contents":[{"id":"SKU1","quantity":1,"price":25.5,"name":"Shirt"}]}`)
	plain := webEvent("view-1")
	plain.Properties = json.RawMessage(`{"content_ids":["A","B"]}`)

	out, err := p.Send(context.Background(), []forward.Item{{Event: e, Name: "CompletePayment"}, {Event: plain, Name: "ViewContent"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Status != forward.Sent || o.ResponseID != "FAKEREQ000001" {
			t.Fatalf("outcome %d = %+v, want sent with the request_id", i, o)
		}
	}
	if codes := fake.TestEventCodes(); len(codes) != 1 || codes[0] != "TEST42" {
		t.Fatalf("test codes %v", codes)
	}
	got := fake.Events()
	buy, view := got[0], got[1]
	checks := []struct{ name, got, want string }{
		{"event", buy.Event, "CompletePayment"},
		{"event_id", buy.EventID, "buy-1"},
		{"event_time", itoa(*buy.EventTime), itoa(e.Timestamp.Unix())},
		{"ttclid", buy.User.TTClid, "E.C.P.abc123"},
		{"ttp", buy.User.TTP, "2F7h37YkS1j57AYSKTI7IHhJPYH"},
		{"ip", buy.User.IP, "2001:db8::7"},
		{"user_agent", buy.User.UserAgent, e.UserAgent},
		{"page", buy.Page.URL + " " + buy.Page.Referrer, e.URL + " " + e.Referrer},
		{"value", string(buy.Properties["value"]) + string(buy.Properties["currency"]) + string(buy.Properties["order_id"]), `25.5"USD""o-9"`},
		{"contents", string(buy.Properties["contents"]), `[{"content_id":"SKU1","content_name":"Shirt","quantity":1,"price":25.5}]`},
		{"contents from ids", string(view.Properties["contents"]), `[{"content_id":"A"},{"content_id":"B"}]`},
		{"no ttp", view.User.TTP, ""},
		{"no ip", view.User.IP, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestRejectedBeforeSending(t *testing.T) {
	v := 3.0
	tests := []struct {
		name   string
		item   forward.Item
		reason string
	}{
		{"no name", forward.Item{Event: webEvent("x")}, "no TikTok event name"},
		{"no event id", forward.Item{Event: webEvent(""), Name: "Search"}, "no event id"},
		{"value without currency", forward.Item{Event: func() event.Event { e := webEvent("x"); e.Value = &v; return e }(), Name: "CompletePayment"}, "no currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, "")
			out, err := p.Send(context.Background(), []forward.Item{tt.item, {Event: webEvent("ok"), Name: "Search"}})
			if err != nil || out[0].Status != forward.Failed || !strings.Contains(out[0].Reason, tt.reason) || out[1].Status != forward.Sent {
				t.Fatalf("Send = %+v, %v; want the first failed because of %q, the second sent", out, err, tt.reason)
			}
			if ev := fake.Events(); len(ev) != 1 || ev[0].EventID != "ok" {
				t.Fatalf("fake received %+v", ev)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*tiktokfake.Fake)
		token  string
		want   forward.Kind
		status int
	}{
		{"wrong token", func(*tiktokfake.Fake) {}, "wrong", forward.Auth, 200},
		{"rate limit code", func(f *tiktokfake.Fake) { f.FailNextCode(1, 40100) }, token, forward.Transient, 200},
		{"system error code", func(f *tiktokfake.Fake) { f.FailNextCode(1, 50000) }, token, forward.Transient, 200},
		{"invalid parameters code", func(f *tiktokfake.Fake) { f.FailNextCode(1, 40002) }, token, forward.Permanent, 200},
		{"unknown code", func(f *tiktokfake.Fake) { f.FailNextCode(1, 41234) }, token, forward.Permanent, 200},
		{"no permission", func(f *tiktokfake.Fake) { f.FailNextCode(1, 40001) }, token, forward.Auth, 200},
		{"gateway 503", func(f *tiktokfake.Fake) { f.FailNextHTTP(1, 503) }, token, forward.Transient, 503},
		{"HTTP 429", func(f *tiktokfake.Fake) { f.FailNextHTTP(1, 429) }, token, forward.Transient, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := newAgainstFake(t, "")
			p.token = tt.token
			tt.inject(fake)
			out, err := p.Send(context.Background(), []forward.Item{{Event: webEvent("e"), Name: "Search"}})
			var fe *forward.Error
			if !errors.As(err, &fe) || fe.Kind != tt.want || fe.Status != tt.status || out != nil {
				t.Fatalf("Send = %v, %v; want a %s error with HTTP %d", out, err, tt.want, tt.status)
			}
			if !strings.Contains(fe.Message, "request_id FAKEREQ") {
				t.Fatalf("message %q lacks TikTok's request_id", fe.Message)
			}
			if len(fake.Events()) != 0 {
				t.Fatal("the fake recorded events of a failed request")
			}
		})
	}
}

func TestNoSecretInErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 40105, "message": "token " + r.Header.Get("Access-Token") + " revoked", "request_id": "r"})
	}))
	defer echo.Close()
	for _, srv := range []*httptest.Server{closed, echo} {
		p, err := New(destination(srv.URL, ""), forward.Credentials{"accessToken": token}, &http.Client{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Send(context.Background(), []forward.Item{{Event: webEvent("e"), Name: "Search"}})
		if err == nil || strings.Contains(err.Error(), token) {
			t.Fatalf("error %v: want one without the token", err)
		}
	}
}

func first(h tiktokfake.Hashes) string {
	if len(h) == 0 {
		return ""
	}
	return h[0]
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
