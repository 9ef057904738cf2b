package ga4_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/trackstack/trackstack/runtime/forward/ga4"
	"github.com/trackstack/trackstack/runtime/forward/ga4/ga4fake"
)

const (
	measurementID = "G-TEST1234"
	apiSecret     = "s3cr3t-Api_Secret"
)

func destination(endpoint string, debug bool) config.Destination {
	return config.Destination{Name: "ga", Type: v1alpha1.DestinationGA4,
		GA4: &v1alpha1.GA4Destination{Endpoint: v1alpha1.Endpoint{Endpoint: endpoint}, MeasurementID: measurementID, Debug: debug}}
}

func newPlatform(t *testing.T, endpoint string, debug bool) *ga4.Platform {
	t.Helper()
	p, err := ga4.New(destination(endpoint, debug), forward.Credentials{"apiSecret": apiSecret}, &http.Client{Timeout: 10 * time.Second})
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

func purchase(id, client string, value float64) forward.Item {
	v := value
	return forward.Item{Name: "purchase", Event: event.Event{
		Site: "shop", EventID: id, Type: event.TypeConversion, Name: "purchase",
		Timestamp: time.Now().Add(-time.Hour), VisitorID: "v-" + client, GAClientID: client,
		SessionID: "sess-" + client, URL: "https://shop.example.com/checkout",
		Value: &v, Currency: "eur", OrderID: "order-" + id,
	}}
}

func TestSendDeliversOneRequestPerClient(t *testing.T) {
	fake := ga4fake.New(measurementID, apiSecret)
	p := newPlatform(t, serve(t, fake).URL, false)

	// Google's own normalization example: the Google digest is sent, not
	// the common one.
	googleEmail := enrich.SHA256Hex("cloudysanfrancisco@gmail.com")
	phone := enrich.SHA256Hex("+18005550100")
	a := purchase("1", "GA1.1.123.456", 129.9)
	a.Event.UserID = "customer-42"
	a.Event.Consent = event.Consent{AdUserData: event.Granted, AdPersonalization: event.Denied}
	a.Event.User = event.User{EmailSHA256: enrich.SHA256Hex("cloudy.sanfrancisco+shopping@gmail.com"),
		EmailGoogleSHA256: googleEmail, PhoneE164SHA256: phone}
	b := purchase("2", "", 10)
	b.Event.VisitorID = "visitor-7"
	b.Name = "generate_lead"

	out, err := p.Send(context.Background(), []forward.Item{a, b})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Status != forward.Sent {
			t.Fatalf("item %d: %v %q", i, o.Status, o.Reason)
		}
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Fatalf("invalid data reached GA4: %v", v)
	}
	if n := fake.Requests(); n != 2 {
		t.Fatalf("requests = %d, want one per client (2)", n)
	}
	evs := fake.Events()
	if len(evs) != 2 {
		t.Fatalf("events = %d, want 2", len(evs))
	}
	got := evs[0]
	checks := []struct{ name, got, want string }{
		{"client_id from the whole _ga cookie", got.ClientID, "123.456"},
		{"user_id", got.UserID, "customer-42"},
		{"name", got.Name, "purchase"},
		{"ad_user_data", got.Consent["ad_user_data"], "GRANTED"},
		{"ad_personalization", got.Consent["ad_personalization"], "DENIED"},
		{"email", strings.Join(got.UserData["sha256_email_address"], ","), googleEmail},
		{"phone", strings.Join(got.UserData["sha256_phone_number"], ","), phone},
		{"currency", fmt.Sprint(got.Params["currency"]), "EUR"},
		{"value", fmt.Sprint(got.Params["value"]), "129.9"},
		{"transaction_id", fmt.Sprint(got.Params["transaction_id"]), "order-1"},
		{"page_location", fmt.Sprint(got.Params["page_location"]), "https://shop.example.com/checkout"},
		{"engagement_time_msec", fmt.Sprint(got.Params["engagement_time_msec"]), "1"},
		{"session_id", fmt.Sprint(got.Params["session_id"]), ga4.SessionID("sess-GA1.1.123.456")},
		{"visitor id when no cookie", evs[1].ClientID, "visitor-7"},
		{"mapped name", evs[1].Name, "generate_lead"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if want := a.Event.Timestamp.UnixMicro(); got.TimestampMicros != want {
		t.Errorf("timestamp_micros = %d, want %d", got.TimestampMicros, want)
	}
}

func TestSendSplitsAClientIntoRequestsOf25(t *testing.T) {
	fake := ga4fake.New(measurementID, apiSecret)
	p := newPlatform(t, serve(t, fake).URL, false)
	items := make([]forward.Item, p.MaxBatch())
	for i := range items {
		items[i] = purchase(fmt.Sprint(i), "111.222", float64(i))
	}
	out, err := p.Send(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Status != forward.Sent {
			t.Fatalf("item %d: %v %q", i, o.Status, o.Reason)
		}
	}
	if n := fake.Requests(); n != 4 {
		t.Errorf("requests = %d, want 4 (100 events, 25 per request)", n)
	}
	if n := len(fake.Events()); n != 100 {
		t.Errorf("events received = %d, want 100", n)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestSendFailsWhatGA4WouldDropBeforeSending(t *testing.T) {
	long := strings.Repeat("x", 101)
	tests := []struct {
		name   string
		modify func(*forward.Item)
		reason string
	}{
		{"reserved name", func(it *forward.Item) { it.Name = "page_view" }, "reserved"},
		{"reserved prefix", func(it *forward.Item) { it.Name = "google_purchase" }, "reserved prefix"},
		{"name of 41 characters", func(it *forward.Item) { it.Name = strings.Repeat("a", 41) }, "longer than 40"},
		{"name with a dash", func(it *forward.Item) { it.Name = "big-sale" }, "letters, digits and _"},
		{"name starting with a digit", func(it *forward.Item) { it.Name = "1sale" }, "start with a letter"},
		{"older than 72 hours", func(it *forward.Item) { it.Event.Timestamp = time.Now().Add(-73 * time.Hour) }, "older than"},
		{"no client", func(it *forward.Item) { it.Event.GAClientID, it.Event.VisitorID = "", "" }, "nor a visitor id"},
		{"transaction_id over 100 characters", func(it *forward.Item) { it.Event.OrderID = long }, "transaction_id is longer than 100"},
		{"user_id over 256 characters", func(it *forward.Item) { it.Event.UserID = strings.Repeat("u", 257) }, "user_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := ga4fake.New(measurementID, apiSecret)
			p := newPlatform(t, serve(t, fake).URL, false)
			bad := purchase("bad", "1.2", 5)
			tt.modify(&bad)
			good := purchase("good", "1.2", 6)
			out, err := p.Send(context.Background(), []forward.Item{bad, good})
			if err != nil {
				t.Fatal(err)
			}
			if out[0].Status != forward.Failed || !strings.Contains(out[0].Reason, tt.reason) {
				t.Errorf("bad item: %v %q, want Failed with %q", out[0].Status, out[0].Reason, tt.reason)
			}
			if out[1].Status != forward.Sent {
				t.Errorf("good item: %v %q, want Sent", out[1].Status, out[1].Reason)
			}
			if evs := fake.Events(); len(evs) != 1 || evs[0].Params["transaction_id"] != "order-good" {
				t.Errorf("GA4 received %+v, want only the good event", evs)
			}
			if v := fake.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

func TestSendShortensLongPageURLs(t *testing.T) {
	fake := ga4fake.New(measurementID, apiSecret)
	p := newPlatform(t, serve(t, fake).URL, false)
	it := purchase("1", "1.2", 5)
	it.Event.URL = "https://shop.example.com/checkout/done?" + strings.Repeat("utm_x=1&", 20)
	it.Event.Referrer = "https://example.org/" + strings.Repeat("p", 200)
	out, err := p.Send(context.Background(), []forward.Item{it})
	if err != nil || out[0].Status != forward.Sent {
		t.Fatalf("%v %+v", err, out)
	}
	params := fake.Events()[0].Params
	if got := params["page_location"]; got != "https://shop.example.com/checkout/done" {
		t.Errorf("page_location = %q, want the URL without its query", got)
	}
	if got := fmt.Sprint(params["page_referrer"]); len(got) != 100 {
		t.Errorf("page_referrer has %d characters, want 100", len(got))
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestSendClassifiesFailures(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter time.Duration
		kind       forward.Kind
	}{
		{"429 with Retry-After", http.StatusTooManyRequests, 30 * time.Second, forward.Transient},
		{"500", http.StatusInternalServerError, 0, forward.Transient},
		{"401", http.StatusUnauthorized, 0, forward.Auth},
		{"400", http.StatusBadRequest, 0, forward.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := ga4fake.New(measurementID, apiSecret)
			p := newPlatform(t, serve(t, fake).URL, false)
			fake.FailNext(1, tt.status, tt.retryAfter)
			_, err := p.Send(context.Background(), []forward.Item{purchase("1", "1.2", 5)})
			var fe *forward.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *forward.Error", err)
			}
			if fe.Kind != tt.kind || fe.Status != tt.status || fe.RetryAfter != tt.retryAfter {
				t.Errorf("got %v status %d retry after %s, want %v %d %s", fe.Kind, fe.Status, fe.RetryAfter, tt.kind, tt.status, tt.retryAfter)
			}
			if strings.Contains(err.Error(), apiSecret) {
				t.Errorf("error carries the api_secret: %v", err)
			}
			if out, err := p.Send(context.Background(), []forward.Item{purchase("1", "1.2", 5)}); err != nil || out[0].Status != forward.Sent {
				t.Errorf("after the failure: %v %+v", err, out)
			}
		})
	}
}

func TestSendKeepsPerItemOutcomesWhenOnlySomeRequestsFail(t *testing.T) {
	fake := ga4fake.New(measurementID, apiSecret)
	p := newPlatform(t, serve(t, fake).URL, false)
	fake.FailNext(1, http.StatusTooManyRequests, 7*time.Second)
	bad := purchase("bad", "1.2", 1)
	bad.Name = "session_start"
	out, err := p.Send(context.Background(), []forward.Item{bad, purchase("a", "1.2", 1), purchase("b", "3.4", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Status != forward.Failed {
		t.Errorf("invalid item: %v, want Failed", out[0].Status)
	}
	for _, o := range out[1:] {
		// The second client's request is not sent after a 429 either.
		if o.Status != forward.Retry || o.RetryAfter != 7*time.Second {
			t.Errorf("throttled item: %v after %s, want Retry after 7s", o.Status, o.RetryAfter)
		}
	}
	if n := fake.Requests(); n != 1 {
		t.Errorf("requests = %d, want 1: nothing more after a 429", n)
	}
}

func TestErrorsNeverCarryTheAPISecret(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		p := newPlatform(t, srv.URL, false)
		_, err := p.Send(context.Background(), []forward.Item{purchase("1", "1.2", 5)})
		if err == nil {
			t.Fatal("no error from a closed server")
		}
		if fe := forward.AsError(err); fe.Kind != forward.Transient {
			t.Errorf("kind = %v, want transient", fe.Kind)
		}
		if strings.Contains(err.Error(), apiSecret) || strings.Contains(err.Error(), "api_secret") {
			t.Errorf("error carries the URL with the api_secret: %v", err)
		}
	})
	t.Run("a proxy echoing the URL", func(t *testing.T) {
		echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad request for "+r.URL.String(), http.StatusBadRequest)
		})
		p := newPlatform(t, serve(t, echo).URL, false)
		_, err := p.Send(context.Background(), []forward.Item{purchase("1", "1.2", 5)})
		if err == nil || strings.Contains(err.Error(), apiSecret) {
			t.Errorf("err = %v, want an error without the api_secret", err)
		}
		if !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("err = %v, want the echoed secret redacted", err)
		}
	})
}

func TestDebugUsesTheValidationServer(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		fake := ga4fake.New(measurementID, apiSecret)
		p := newPlatform(t, serve(t, fake).URL, true)
		out, err := p.Send(context.Background(), []forward.Item{purchase("1", "1.2", 5)})
		if err != nil || out[0].Status != forward.Sent || out[0].ResponseID != "validated" {
			t.Fatalf("%v %+v", err, out)
		}
		if n := len(fake.Events()); n != 0 {
			t.Errorf("the validation server recorded %d events", n)
		}
	})
	t.Run("messages fail the items", func(t *testing.T) {
		fake := ga4fake.New(measurementID, "another-secret")
		p := newPlatform(t, serve(t, fake).URL, true)
		out, err := p.Send(context.Background(), []forward.Item{purchase("1", "1.2", 5)})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Status != forward.Failed || !strings.Contains(out[0].Reason, "VALUE_INVALID") {
			t.Errorf("outcome %+v, want Failed with the validation message", out[0])
		}
	})
}

func TestWrongSecretIsSilentlyDroppedByCollect(t *testing.T) {
	// What GA4 does, and why the fake counts it: the adapter cannot tell.
	fake := ga4fake.New(measurementID, "another-secret")
	p := newPlatform(t, serve(t, fake).URL, false)
	out, err := p.Send(context.Background(), []forward.Item{purchase("1", "1.2", 5)})
	if err != nil || out[0].Status != forward.Sent {
		t.Fatalf("%v %+v", err, out)
	}
	if fake.Dropped() != 1 || len(fake.Events()) != 0 {
		t.Errorf("dropped %d, events %d; want 1 and 0", fake.Dropped(), len(fake.Events()))
	}
}

func TestNewRejectsIncompleteSettings(t *testing.T) {
	client := &http.Client{}
	tests := []struct {
		name  string
		d     config.Destination
		creds forward.Credentials
		want  string
	}{
		{"no block", config.Destination{Type: v1alpha1.DestinationGA4}, forward.Credentials{"apiSecret": "x"}, "settings block"},
		{"no measurement id", config.Destination{GA4: &v1alpha1.GA4Destination{}}, forward.Credentials{"apiSecret": "x"}, "measurementID"},
		{"no secret", destination("", false), forward.Credentials{}, `"apiSecret"`},
		{"bad endpoint", destination("ftp://x", false), forward.Credentials{"apiSecret": "x"}, "endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ga4.New(tt.d, tt.creds, client)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestClientID(t *testing.T) {
	for in, want := range map[string]string{
		"GA1.1.123.456":       "123.456",
		"GA1.2.1234567.89012": "1234567.89012",
		"123.456":             "123.456",
		" 123.456 ":           "123.456",
		"":                    "",
	} {
		if got := ga4.ClientID(in); got != want {
			t.Errorf("ClientID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSessionID(t *testing.T) {
	if got := ga4.SessionID("1700000000"); got != "1700000000" {
		t.Errorf("digits changed: %q", got)
	}
	a, b := ga4.SessionID("s-abc"), ga4.SessionID("s-abd")
	if a != ga4.SessionID("s-abc") || a == b {
		t.Errorf("SessionID not stable or not distinct: %q %q", a, b)
	}
	for _, s := range []string{a, b, ga4.SessionID("99999999999999999999")} {
		if strings.Trim(s, "0123456789") != "" || len(s) > 19 {
			t.Errorf("SessionID = %q, want at most 19 digits", s)
		}
	}
}

func TestDefaultEventsAreValidGA4Names(t *testing.T) {
	p := newPlatform(t, "", false)
	for from, to := range p.DefaultEvents() {
		if err := ga4.CheckEventName(to); err != nil {
			t.Errorf("%s → %s: %v", from, to, err)
		}
	}
	if got := p.DefaultEvents()["lead"]; got != "generate_lead" {
		t.Errorf("lead → %q", got)
	}
}

func TestUserDataStaysHomeWhenAdUserDataIsDenied(t *testing.T) {
	fake := ga4fake.New(measurementID, apiSecret)
	p := newPlatform(t, serve(t, fake).URL, false)
	it := purchase("1", "1.2", 5)
	it.Event.Consent.AdUserData = event.Denied
	it.Event.User = event.User{EmailSHA256: enrich.SHA256Hex("john_smith@gmail.com"), PhoneE164SHA256: enrich.SHA256Hex("+16505551212")}
	if out, err := p.Send(context.Background(), []forward.Item{it}); err != nil || out[0].Status != forward.Sent {
		t.Fatalf("%v %+v", err, out)
	}
	got := fake.Events()[0]
	if got.UserData != nil || got.Consent["ad_user_data"] != "DENIED" {
		t.Errorf("user_data %v consent %v, want no user data and the denial sent", got.UserData, got.Consent)
	}
}

func TestConcurrentSends(t *testing.T) {
	fake := ga4fake.New(measurementID, apiSecret)
	p := newPlatform(t, serve(t, fake).URL, false)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			_, err := p.Send(context.Background(), []forward.Item{purchase(fmt.Sprint(g), fmt.Sprint(g)+".1", 1)})
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(fake.Events()); n != 8 {
		t.Errorf("events = %d, want 8", n)
	}
}
