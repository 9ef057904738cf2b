package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/webhook"
	"github.com/trackstack/trackstack/runtime/forward/webhook/webhookfake"
)

const secret = "whsec_0123456789"

func newPlatform(t *testing.T, url string) *webhook.Platform {
	t.Helper()
	d := config.Destination{Name: "hook", Type: v1alpha1.DestinationWebhook, Webhook: &v1alpha1.WebhookDestination{URL: url}}
	p, err := webhook.New(d, forward.Credentials{"secret": secret}, &http.Client{Timeout: 10 * time.Second})
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

// bodies records raw request bodies before handing them on.
type bodies struct {
	next http.Handler
	mu   sync.Mutex
	all  [][]byte
}

func (b *bodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.all = append(b.all, body)
	b.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	b.next.ServeHTTP(w, r)
}

func item(id string) forward.Item {
	v := 129.9
	return forward.Item{Name: "order.paid", Event: event.Event{
		Site: "shop", EventID: id, Type: event.TypeConversion, Name: "purchase", Source: event.SourceServer,
		Timestamp: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Value: &v, Currency: "EUR", OrderID: "1001",
		IP: "203.0.113.0", RawIP: "203.0.113.77", RawIPSealed: []byte("sealed-203.0.113.77"),
		User: event.User{EmailSHA256: strings.Repeat("a", 64)},
	}}
}

func TestSendPostsSignedEvents(t *testing.T) {
	fake := webhookfake.New(secret)
	rec := &bodies{next: fake}
	p := newPlatform(t, serve(t, rec).URL+"/hooks/trackstack")
	refund := item("e2")
	refund.Name, refund.Event.Name = "order.refunded", "refund"
	orig := item("e1").Event
	refund.Original = &orig

	out, err := p.Send(context.Background(), []forward.Item{item("e1"), refund})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Status != forward.Sent {
			t.Errorf("item %d: %v %q", i, o.Status, o.Reason)
		}
	}
	if r := fake.Rejections(); len(r) > 0 {
		t.Fatalf("rejections: %v", r)
	}
	evs := fake.Events()
	if len(evs) != 2 {
		t.Fatalf("events = %d, want 2", len(evs))
	}
	if evs[0].SendAs != "order.paid" || evs[0].EventID != "e1" || *evs[0].Value != 129.9 || evs[0].User.EmailSHA256 == "" {
		t.Errorf("first event = %+v", evs[0])
	}
	if evs[1].Original == nil || evs[1].Original.EventID != "e1" || evs[1].SendAs != "order.refunded" {
		t.Errorf("refund = %+v, want the original sale attached", evs[1])
	}
	if raw := string(rec.all[0]); strings.Contains(raw, "203.0.113.77") {
		t.Errorf("the raw IP left the process: %s", raw)
	}
}

func TestResendCarriesTheSameIdempotencyKey(t *testing.T) {
	fake := webhookfake.New(secret)
	p := newPlatform(t, serve(t, fake).URL)
	batch := []forward.Item{item("e1"), item("e2")}
	for range 2 {
		if _, err := p.Send(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if fake.Duplicates() != 1 || len(fake.Events()) != 2 {
		t.Errorf("duplicates %d, events %d: want the resend recognised", fake.Duplicates(), len(fake.Events()))
	}
	if webhook.IdempotencyKey(batch) == webhook.IdempotencyKey(batch[:1]) {
		t.Error("different batches share a key")
	}
}

func TestSendClassifiesAnswers(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter time.Duration
		kind       forward.Kind
	}{
		{"503 with Retry-After", http.StatusServiceUnavailable, 20 * time.Second, forward.Transient},
		{"500", http.StatusInternalServerError, 0, forward.Transient},
		{"429", http.StatusTooManyRequests, 3 * time.Second, forward.Transient},
		{"400", http.StatusBadRequest, 0, forward.Permanent},
		{"404", http.StatusNotFound, 0, forward.Permanent},
		{"401", http.StatusUnauthorized, 0, forward.Auth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := webhookfake.New(secret)
			p := newPlatform(t, serve(t, fake).URL)
			fake.FailNext(1, tt.status, tt.retryAfter)
			_, err := p.Send(context.Background(), []forward.Item{item("e1")})
			var fe *forward.Error
			if !errors.As(err, &fe) || fe.Kind != tt.kind || fe.Status != tt.status || fe.RetryAfter != tt.retryAfter {
				t.Fatalf("err = %#v, want %v %d after %s", err, tt.kind, tt.status, tt.retryAfter)
			}
			if out, err := p.Send(context.Background(), []forward.Item{item("e1")}); err != nil || out[0].Status != forward.Sent {
				t.Errorf("after the failure: %v %+v", err, out)
			}
		})
	}
}

func TestAWrongSecretIsAnAuthFailure(t *testing.T) {
	fake := webhookfake.New("another-secret")
	p := newPlatform(t, serve(t, fake).URL)
	_, err := p.Send(context.Background(), []forward.Item{item("e1")})
	if fe := forward.AsError(err); err == nil || fe.Kind != forward.Auth {
		t.Fatalf("err = %v, want an auth failure", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error carries the secret: %v", err)
	}
	if r := fake.Rejections(); len(r) != 1 || !strings.Contains(r[0], "signature does not match") {
		t.Errorf("rejections = %v", r)
	}
}

func TestTimeoutsAndConnectionErrorsAreTransientAndKeepTheURLOut(t *testing.T) {
	release := make(chan struct{})
	hang := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) })
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for name, url := range map[string]string{"timeout": hang.URL, "refused": closed.URL} {
		t.Run(name, func(t *testing.T) {
			d := config.Destination{Webhook: &v1alpha1.WebhookDestination{URL: url + "/in?token=url-token-123"}}
			p, err := webhook.New(d, forward.Credentials{"secret": secret}, &http.Client{Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Send(context.Background(), []forward.Item{item("e1")})
			if fe := forward.AsError(err); err == nil || fe.Kind != forward.Transient {
				t.Fatalf("err = %v, want transient", err)
			}
			if strings.Contains(err.Error(), "url-token-123") || strings.Contains(err.Error(), secret) {
				t.Errorf("error carries the URL or the secret: %v", err)
			}
		})
	}
}

func TestNewRejectsIncompleteSettings(t *testing.T) {
	tests := []struct {
		name  string
		d     config.Destination
		creds forward.Credentials
		want  string
	}{
		{"no block", config.Destination{}, forward.Credentials{"secret": "x"}, "settings block"},
		{"no url", config.Destination{Webhook: &v1alpha1.WebhookDestination{}}, forward.Credentials{"secret": "x"}, "url is empty"},
		{"relative url", config.Destination{Webhook: &v1alpha1.WebhookDestination{URL: "/hook?token=t0k"}}, forward.Credentials{"secret": "x"}, "absolute"},
		{"no secret", config.Destination{Webhook: &v1alpha1.WebhookDestination{URL: "https://x.example"}}, nil, `"secret"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.New(tt.d, tt.creds, &http.Client{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "t0k") {
				t.Errorf("err = %v, want one naming %s without the URL", err, tt.want)
			}
		})
	}
}

func TestConcurrentSends(t *testing.T) {
	fake := webhookfake.New(secret)
	p := newPlatform(t, serve(t, fake).URL)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			_, err := p.Send(context.Background(), []forward.Item{item("e" + string(rune('a'+g)))})
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(fake.Events()); n != 8 || fake.Duplicates() != 0 {
		t.Errorf("events = %d, duplicates %d; want 8 and 0", n, fake.Duplicates())
	}
}

// TestDefaultEventsTakeEveryConversion: without a mapping a webhook gets
// every conversion, and nothing else.
func TestDefaultEventsTakeEveryConversion(t *testing.T) {
	m, err := forward.NewMapping(nil, (&webhook.Platform{}).DefaultEvents(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ev   event.Event
		want bool
	}{
		{event.Event{Type: event.TypeConversion, Name: "purchase"}, true},
		{event.Event{Type: event.TypeConversion, Name: "refund"}, true},
		{event.Event{Type: event.TypePageview, Name: "pageview"}, false},
	} {
		if _, ok := m.SendAs(&tc.ev); ok != tc.want {
			t.Errorf("%s %s taken: %v, want %v", tc.ev.Type, tc.ev.Name, ok, tc.want)
		}
	}
}
