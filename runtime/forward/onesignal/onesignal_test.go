package onesignal_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/onesignal"
	"github.com/trackstack/trackstack/runtime/forward/onesignal/onesignalfake"
)

const (
	appID  = "202d4f61-1ca9-42df-9d36-bb17d8123abc"
	apiKey = "os_v2_app_secretkeyvalue"
)

func newPlatform(t *testing.T, endpoint string) *onesignal.Platform {
	t.Helper()
	d := config.Destination{Name: "push", Type: v1alpha1.DestinationOneSignal,
		OneSignal: &v1alpha1.OneSignalDestination{Endpoint: v1alpha1.Endpoint{Endpoint: endpoint}, AppID: appID}}
	p, err := onesignal.New(d, forward.Credentials{"apiKey": apiKey}, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func sale(id string) forward.Item {
	v := 129.9
	return forward.Item{Name: "New sale", Event: event.Event{
		Site: "shop", EventID: id, Name: "purchase", Value: &v, Currency: "eur", OrderID: "1001",
		UTM: event.UTM{Source: "google", Medium: "cpc", Campaign: "black-friday"},
	}}
}

func TestSendCreatesANotification(t *testing.T) {
	fake := onesignalfake.New(appID, apiKey)
	p := newPlatform(t, serve(t, fake).URL)
	out, err := p.Send(context.Background(), []forward.Item{sale("e1")})
	if err != nil {
		t.Fatal(err)
	}
	ns := fake.Notifications()
	if len(ns) != 1 || out[0].Status != forward.Sent || out[0].ResponseID != ns[0].ID {
		t.Fatalf("outcome %+v, notifications %+v", out[0], ns)
	}
	n := ns[0]
	if n.Headings["en"] != "💰 New sale" || n.Contents["en"] != "129.90 EUR · google / cpc · black-friday\nOrder 1001" {
		t.Errorf("heading %q content %q", n.Headings["en"], n.Contents["en"])
	}
	if len(n.Segments) != 1 || n.Segments[0] != onesignal.Segment {
		t.Errorf("segments = %v", n.Segments)
	}
	if n.IdempotencyKey != onesignal.IdempotencyKey("shop", "e1") {
		t.Errorf("idempotency key %q", n.IdempotencyKey)
	}
}

func TestAResendDoesNotNotifyTwice(t *testing.T) {
	fake := onesignalfake.New(appID, apiKey)
	p := newPlatform(t, serve(t, fake).URL)
	first, err := p.Send(context.Background(), []forward.Item{sale("e1")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Send(context.Background(), []forward.Item{sale("e1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(fake.Notifications()) != 1 || fake.Duplicates() != 1 || again[0].ResponseID != first[0].ResponseID {
		t.Errorf("notifications %d duplicates %d ids %q %q", len(fake.Notifications()), fake.Duplicates(), first[0].ResponseID, again[0].ResponseID)
	}
	if _, err := p.Send(context.Background(), []forward.Item{sale("e2")}); err != nil || len(fake.Notifications()) != 2 {
		t.Errorf("another event: %v, notifications %d", err, len(fake.Notifications()))
	}
}

func TestIdempotencyKeyIsAStableUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a := onesignal.IdempotencyKey("shop", "e1")
	if !re.MatchString(a) || a != onesignal.IdempotencyKey("shop", "e1") {
		t.Errorf("key %q is not a stable version-5 UUID", a)
	}
	for _, other := range []string{onesignal.IdempotencyKey("shop", "e2"), onesignal.IdempotencyKey("blog", "e1"), onesignal.IdempotencyKey("shope", "1")} {
		if other == a {
			t.Errorf("distinct events share key %q", a)
		}
	}
}

func TestEmptyIDMeansNothingWasSent(t *testing.T) {
	fake := onesignalfake.New(appID, apiKey)
	fake.NoSubscribers()
	p := newPlatform(t, serve(t, fake).URL)
	out, err := p.Send(context.Background(), []forward.Item{sale("e1")})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Status != forward.Failed || !strings.Contains(out[0].Reason, "not subscribed") {
		t.Errorf("outcome %+v, want Failed with OneSignal's error", out[0])
	}
}

func TestSendClassifiesFailures(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter time.Duration
		kind       forward.Kind
	}{
		{"429 Retry-After", http.StatusTooManyRequests, 11 * time.Second, forward.Transient},
		{"502", http.StatusBadGateway, 0, forward.Transient},
		{"400", http.StatusBadRequest, 0, forward.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := onesignalfake.New(appID, apiKey)
			fake.FailNext(1, tt.status, tt.retryAfter)
			p := newPlatform(t, serve(t, fake).URL)
			_, err := p.Send(context.Background(), []forward.Item{sale("e1")})
			var fe *forward.Error
			if !errors.As(err, &fe) || fe.Kind != tt.kind || fe.Status != tt.status || fe.RetryAfter != tt.retryAfter {
				t.Fatalf("err = %#v, want %v %d after %s", err, tt.kind, tt.status, tt.retryAfter)
			}
			if out, err := p.Send(context.Background(), []forward.Item{sale("e1")}); err != nil || out[0].Status != forward.Sent {
				t.Errorf("after the failure: %v %+v", err, out)
			}
		})
	}
}

func TestAWrongKeyIsAnAuthFailureWithoutTheKey(t *testing.T) {
	fake := onesignalfake.New(appID, "another-key")
	p := newPlatform(t, serve(t, fake).URL)
	_, err := p.Send(context.Background(), []forward.Item{sale("e1")})
	fe := forward.AsError(err)
	if err == nil || fe.Kind != forward.Auth || !strings.Contains(fe.Message, "Authorization") {
		t.Fatalf("err = %v, want an auth failure naming the header", err)
	}
	if strings.Contains(err.Error(), apiKey) {
		t.Errorf("error carries the key: %v", err)
	}
}

func TestAWrongAppIsPermanent(t *testing.T) {
	fake := onesignalfake.New("11111111-1111-4111-8111-111111111111", apiKey)
	p := newPlatform(t, serve(t, fake).URL)
	_, err := p.Send(context.Background(), []forward.Item{sale("e1")})
	if fe := forward.AsError(err); err == nil || fe.Kind != forward.Permanent || !strings.Contains(fe.Message, "app_id") {
		t.Errorf("err = %v, want permanent naming app_id", err)
	}
}

func TestConnectionErrorsAreTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	p := newPlatform(t, srv.URL)
	_, err := p.Send(context.Background(), []forward.Item{sale("e1")})
	if fe := forward.AsError(err); err == nil || fe.Kind != forward.Transient || strings.Contains(err.Error(), apiKey) {
		t.Errorf("err = %v, want transient without the key", err)
	}
}

func TestTexts(t *testing.T) {
	it := sale("e1")
	it.Name, it.Event.Value, it.Event.UTM, it.Event.OrderID = "New lead", nil, event.UTM{}, ""
	h, c := onesignal.Texts(it)
	if h != "New lead" || c != "New lead" {
		t.Errorf("Texts = %q, %q; want the heading as content when there is nothing else", h, c)
	}
}

func TestNewRejectsIncompleteSettings(t *testing.T) {
	block := &v1alpha1.OneSignalDestination{AppID: appID}
	tests := []struct {
		name  string
		d     config.Destination
		creds forward.Credentials
		want  string
	}{
		{"no block", config.Destination{}, forward.Credentials{"apiKey": "k"}, "settings block"},
		{"bad app id", config.Destination{OneSignal: &v1alpha1.OneSignalDestination{AppID: "my-app"}}, forward.Credentials{"apiKey": "k"}, "appID"},
		{"no key", config.Destination{OneSignal: block}, nil, `"apiKey"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := onesignal.New(tt.d, tt.creds, &http.Client{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestConcurrentSends(t *testing.T) {
	fake := onesignalfake.New(appID, apiKey)
	p := newPlatform(t, serve(t, fake).URL)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			_, err := p.Send(context.Background(), []forward.Item{sale("e" + string(rune('a'+g)))})
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(fake.Notifications()); n != 8 {
		t.Errorf("notifications = %d, want 8", n)
	}
}
