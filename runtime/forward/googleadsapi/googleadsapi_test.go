package googleadsapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	"github.com/trackstack/trackstack/runtime/forward/googleadsapi"
	"github.com/trackstack/trackstack/runtime/forward/googleadsapi/googleadsapifake"
)

const (
	clientID       = "1234-fake.apps.googleusercontent.com"
	clientSecret   = "GOCSPX-secret-never-shown"
	refreshToken   = "1//refresh-never-shown"
	developerToken = "devtoken-never-shown"
	customerID     = "1234567890"
	loginID        = "9876543210"
	actionID       = "555"
	action         = "customers/1234567890/conversionActions/555"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

type harness struct {
	fake *googleadsapifake.Fake
	srv  *httptest.Server
	p    *googleadsapi.Platform

	mu      sync.Mutex
	headers []http.Header
	paths   []string
}

func (h *harness) seen() ([]http.Header, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.headers, h.paths
}

func newHarness(t *testing.T, edit func(*v1alpha1.GoogleAdsDestination)) *harness {
	t.Helper()
	h := &harness{fake: googleadsapifake.New(clientID, clientSecret, refreshToken, developerToken)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != googleadsapifake.TokenPath {
			h.mu.Lock()
			h.headers = append(h.headers, r.Header.Clone())
			h.paths = append(h.paths, r.URL.Path)
			h.mu.Unlock()
		}
		h.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	block := &v1alpha1.GoogleAdsDestination{
		Endpoint:           v1alpha1.Endpoint{Endpoint: h.srv.URL},
		TokenURL:           h.srv.URL + googleadsapifake.TokenPath,
		CustomerID:         customerID,
		ConversionActionID: actionID,
	}
	if edit != nil {
		edit(block)
	}
	p, err := googleadsapi.New(config.Destination{Name: "gads", Type: v1alpha1.DestinationGoogleAdsAPI, GoogleAdsAPI: block}, creds(), &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.p = p
	return h
}

func creds() forward.Credentials {
	return forward.Credentials{"clientID": clientID, "clientSecret": clientSecret, "refreshToken": refreshToken, "developerToken": developerToken}
}

var saleTime = time.Date(2026, 11, 20, 15, 4, 5, 0, time.FixedZone("CET", 3600))

func sale(id string) event.Event {
	v := 49.9
	return event.Event{
		EventID: id, Type: event.TypeConversion, Name: "purchase", Timestamp: saleTime,
		ClickIDs: map[string]string{"gclid": "Cj0KCQ-gclid-" + id}, Value: &v, Currency: "eur", OrderID: "order-" + id,
	}
}

func send(t *testing.T, p *googleadsapi.Platform, items ...forward.Item) []forward.Outcome {
	t.Helper()
	out, err := p.Send(context.Background(), items)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(out) != len(items) {
		t.Fatalf("got %d outcomes for %d items", len(out), len(items))
	}
	return out
}

func TestClickConversionFields(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*event.Event)
		check func(t *testing.T, h *harness)
	}{
		{
			name: "sale with gclid",
			check: func(t *testing.T, h *harness) {
				c := h.fake.Conversions()[0]
				if c.GetGclid() != "Cj0KCQ-gclid-e1" || c.GetConversionAction() != action ||
					c.GetConversionDateTime() != "2026-11-20 15:04:05+01:00" || c.GetConversionValue() != 49.9 ||
					c.GetCurrencyCode() != "EUR" || c.GetOrderId() != "order-e1" || c.Consent != nil || len(c.UserIdentifiers) != 0 {
					t.Errorf("conversion = %v", c)
				}
			},
		},
		{
			name: "gbraid when there is no gclid",
			edit: func(e *event.Event) { e.ClickIDs = map[string]string{"gbraid": "B1", "wbraid": "W1"} },
			check: func(t *testing.T, h *harness) {
				if c := h.fake.Conversions()[0]; c.Gbraid != "B1" || c.Wbraid != "" || c.GetGclid() != "" {
					t.Errorf("conversion = %v", c)
				}
			},
		},
		{
			// Data Manager's normalization examples, which the Ads API shares.
			name: "Google digests, one identifier per object",
			edit: func(e *event.Event) {
				e.User = event.User{
					EmailSHA256: sha("cloudy.sanfrancisco+shopping@gmail.com"), EmailGoogleSHA256: sha("cloudysanfrancisco@gmail.com"),
					PhoneSHA256: sha("18005550100"), PhoneE164SHA256: sha("+18005550100"),
				}
			},
			check: func(t *testing.T, h *harness) {
				ids := h.fake.Conversions()[0].UserIdentifiers
				if len(ids) != 2 || ids[0].GetHashedEmail() != sha("cloudysanfrancisco@gmail.com") ||
					ids[1].GetHashedPhoneNumber() != sha("+18005550100") {
					t.Errorf("identifiers = %v", ids)
				}
			},
		},
		{
			name: "enhanced conversion for leads: no click id, a hashed email",
			edit: func(e *event.Event) {
				e.ClickIDs = nil
				e.User.EmailSHA256 = sha("user.name+nyc@example.com")
			},
			check: func(t *testing.T, h *harness) {
				c := h.fake.Conversions()[0]
				if c.GetGclid() != "" || len(c.UserIdentifiers) != 1 || c.UserIdentifiers[0].GetHashedEmail() != sha("user.name+nyc@example.com") {
					t.Errorf("conversion = %v", c)
				}
			},
		},
		{
			name: "consent ad_user_data granted",
			edit: func(e *event.Event) { e.Consent = event.Consent{AdUserData: "granted", AdPersonalization: "denied"} },
			check: func(t *testing.T, h *harness) {
				if c := h.fake.Conversions()[0]; c.Consent.GetAdUserData().String() != "GRANTED" {
					t.Errorf("consent = %v", c.Consent)
				}
			},
		},
		{
			name: "no order id: the event id",
			edit: func(e *event.Event) { e.OrderID = "" },
			check: func(t *testing.T, h *harness) {
				if c := h.fake.Conversions()[0]; c.GetOrderId() != "e1" {
					t.Errorf("orderId = %q", c.GetOrderId())
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			e := sale("e1")
			if tt.edit != nil {
				tt.edit(&e)
			}
			out := send(t, h.p, forward.Item{Event: e, Name: "purchase"})
			if out[0].Status != forward.Sent || out[0].ResponseID == "" {
				t.Fatalf("outcome %+v", out[0])
			}
			if n := len(h.fake.Conversions()); n != 1 {
				t.Fatalf("fake recorded %d conversions", n)
			}
			tt.check(t, h)
		})
	}
}

func TestRequestHeadersAndPath(t *testing.T) {
	h := newHarness(t, func(b *v1alpha1.GoogleAdsDestination) { b.LoginCustomerID = loginID })
	send(t, h.p, forward.Item{Event: sale("a")})
	headers, paths := h.seen()
	if paths[0] != "/v26/customers/1234567890:uploadClickConversions" {
		t.Errorf("path %q", paths[0])
	}
	hd := headers[0]
	if hd.Get("developer-token") != developerToken || hd.Get("login-customer-id") != loginID ||
		!strings.HasPrefix(hd.Get("Authorization"), "Bearer ya29.") {
		t.Errorf("headers %v", hd)
	}

	h = newHarness(t, func(b *v1alpha1.GoogleAdsDestination) { b.ValidateOnly = true })
	out := send(t, h.p, forward.Item{Event: sale("a")})
	headers, _ = h.seen()
	if out[0].Status != forward.Sent || len(h.fake.Conversions()) != 0 || headers[0].Get("login-customer-id") != "" {
		t.Errorf("validateOnly: %+v, %d recorded", out[0], len(h.fake.Conversions()))
	}
}

func TestPartialFailureMapping(t *testing.T) {
	h := newHarness(t, nil)
	marked := func(id string, m googleadsapifake.Mark) forward.Item {
		e := sale(id)
		h.fake.MarkGclid(e.ClickIDs["gclid"], m)
		return forward.Item{Event: e}
	}
	unparseable := sale("u")
	unparseable.ClickIDs["gclid"] = "not a gclid!"
	out := send(t, h.p,
		forward.Item{Event: sale("ok")},
		marked("dup", googleadsapifake.AlreadyExists),
		marked("young", googleadsapifake.TooRecent),
		marked("old", googleadsapifake.Expired),
		forward.Item{Event: unparseable},
	)
	want := []struct {
		status forward.Status
		reason string
	}{
		{forward.Sent, ""},
		{forward.Sent, ""},
		{forward.Retry, "TOO_RECENT_EVENT"},
		{forward.Failed, "EXPIRED_EVENT"},
		{forward.Failed, "UNPARSEABLE_GCLID"},
	}
	for i, w := range want {
		if out[i].Status != w.status || !strings.Contains(out[i].Reason, w.reason) || out[i].ResponseID == "" {
			t.Errorf("item %d: %+v, want %v with %q and a request id", i, out[i], w.status, w.reason)
		}
	}
	if out[2].RetryAfter < time.Hour {
		t.Errorf("TOO_RECENT_EVENT retries after %v, want hours", out[2].RetryAfter)
	}
	if h.fake.RequestCount() != 1 {
		t.Errorf("%d requests", h.fake.RequestCount())
	}

	// Sending the same sale again is deduplicated by Google: still Sent.
	again := send(t, h.p, forward.Item{Event: sale("ok")})
	if again[0].Status != forward.Sent {
		t.Errorf("re-sent sale: %+v", again[0])
	}
	if n := len(h.fake.Conversions()); n != 1 {
		t.Errorf("fake recorded %d conversions, want the one", n)
	}
}

func TestUnmatchableFailsBeforeSending(t *testing.T) {
	h := newHarness(t, nil)
	bare := sale("bare")
	bare.ClickIDs = map[string]string{"fbclid": "F"}
	out := send(t, h.p, forward.Item{Event: bare})
	if out[0].Status != forward.Failed || !strings.Contains(out[0].Reason, "gclid") || h.fake.RequestCount() != 0 {
		t.Errorf("%+v, %d requests", out[0], h.fake.RequestCount())
	}
}

func TestAdjustments(t *testing.T) {
	h := newHarness(t, nil)
	orig := sale("s1")
	send(t, h.p, forward.Item{Event: orig}) // Google now knows the sale
	v := func(f float64) *float64 { return &f }
	adjust := func(name string, amount *float64, original *event.Event, at time.Time) forward.Item {
		return forward.Item{Event: event.Event{EventID: name + "-x", Type: event.TypeConversion, Name: name, Timestamp: at,
			OrderID: orig.OrderID, Value: amount, Currency: "EUR"}, Name: "adjustment", Original: original}
	}
	later := saleTime.Add(48 * time.Hour)
	out := send(t, h.p,
		adjust("refund", v(10), &orig, later),
		adjust("refund", v(5), nil, later),
		adjust("refund", v(5), &orig, saleTime.Add(-time.Minute)),
		forward.Item{Event: sale("s2")},
	)
	if out[0].Status != forward.Sent || out[3].Status != forward.Sent {
		t.Fatalf("restatement %+v, sale %+v", out[0], out[3])
	}
	if out[1].Status != forward.Failed || !strings.Contains(out[1].Reason, "stored sale") {
		t.Errorf("refund without original: %+v", out[1])
	}
	if out[2].Status != forward.Failed || !strings.Contains(out[2].Reason, "not later") {
		t.Errorf("refund before the sale: %+v", out[2])
	}
	_, paths := h.seen()
	if len(paths) != 3 || !strings.HasSuffix(paths[2], ":uploadConversionAdjustments") {
		t.Errorf("paths %v: want the sale, then one click upload and one adjustment upload", paths)
	}
	a := h.fake.Adjustments()
	if len(a) != 1 || a[0].AdjustmentType.String() != "RESTATEMENT" || a[0].GetOrderId() != orig.OrderID ||
		a[0].GetRestatementValue().GetAdjustedValue() != 39.9 || a[0].GetRestatementValue().GetCurrencyCode() != "EUR" ||
		a[0].GetAdjustmentDateTime() != "2026-11-22 15:04:05+01:00" || a[0].GetConversionAction() != action {
		t.Fatalf("adjustments = %v", a)
	}

	// Full refund, then a cancel of the same sale: one RETRACTION, and the
	// second is already done as far as Google is concerned.
	out = send(t, h.p, adjust("refund", v(49.9), &orig, later.Add(time.Hour)))
	out2 := send(t, h.p, adjust("cancel", nil, &orig, later.Add(2*time.Hour)))
	a = h.fake.Adjustments()
	if out[0].Status != forward.Sent || out2[0].Status != forward.Sent || len(a) != 2 ||
		a[1].AdjustmentType.String() != "RETRACTION" || a[1].RestatementValue != nil {
		t.Errorf("full refund %+v, cancel %+v, adjustments %v", out[0], out2[0], a)
	}
}

func TestRetractionForRefundWithoutAmounts(t *testing.T) {
	h := newHarness(t, nil)
	orig := sale("s1")
	orig.Value = nil
	h.fake.RecordConversion(orig.OrderID, saleTime)
	v := 3.0
	out := send(t, h.p, forward.Item{Event: event.Event{EventID: "r", Name: "refund", OrderID: orig.OrderID, Value: &v, Timestamp: saleTime.Add(time.Hour)}, Original: &orig})
	if a := h.fake.Adjustments(); out[0].Status != forward.Sent || len(a) != 1 || a[0].AdjustmentType.String() != "RETRACTION" {
		t.Errorf("%+v %v", out[0], a)
	}
}

func TestAdjustmentOfUnknownSaleFails(t *testing.T) {
	h := newHarness(t, nil)
	orig := sale("never-uploaded")
	out := send(t, h.p, forward.Item{Event: event.Event{EventID: "c", Name: "cancel", OrderID: orig.OrderID, Timestamp: saleTime.Add(time.Hour)}, Original: &orig})
	if out[0].Status != forward.Failed || !strings.Contains(out[0].Reason, "CONVERSION_NOT_FOUND") {
		t.Errorf("%+v", out[0])
	}
}

func TestTokenCachedAcrossSends(t *testing.T) {
	h := newHarness(t, nil)
	for _, id := range []string{"a", "b", "c", "d"} {
		send(t, h.p, forward.Item{Event: sale(id)})
	}
	if got := h.fake.Tokens.Hits(); got != 1 {
		t.Errorf("token endpoint hit %d times over 4 sends, want 1", got)
	}
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*googleadsapifake.Fake)
		creds   func(forward.Credentials)
		kind    forward.Kind
		status  int
		message string
	}{
		{name: "refresh token revoked", setup: func(f *googleadsapifake.Fake) { f.Tokens.FailNext(1, 400, "invalid_grant") }, kind: forward.Auth, status: 400, message: "invalid_grant"},
		{name: "token endpoint down", setup: func(f *googleadsapifake.Fake) { f.Tokens.FailNext(1, 500, "internal_failure") }, kind: forward.Transient, status: 500, message: "internal_failure"},
		{name: "access token revoked", setup: func(f *googleadsapifake.Fake) { f.Tokens.Revoke() }, kind: forward.Auth, status: 401, message: "OAUTH_TOKEN_INVALID"},
		{name: "wrong developer token", creds: func(c forward.Credentials) { c["developerToken"] = "other-token" }, kind: forward.Auth, status: 401, message: "DEVELOPER_TOKEN_INVALID"},
		{name: "not allowlisted", setup: func(f *googleadsapifake.Fake) { f.SetNotAllowlisted(true) }, kind: forward.Permanent, status: 403, message: "type googleAds"},
		{name: "no permission", setup: func(f *googleadsapifake.Fake) { f.FailNext(1, 403) }, kind: forward.Auth, status: 403, message: "PERMISSION_DENIED"},
		{name: "quota", setup: func(f *googleadsapifake.Fake) { f.FailNext(1, 429) }, kind: forward.Transient, status: 429, message: "RESOURCE_EXHAUSTED"},
		{name: "internal", setup: func(f *googleadsapifake.Fake) { f.FailNext(1, 500) }, kind: forward.Transient, status: 500, message: "INTERNAL"},
		{name: "unavailable", setup: func(f *googleadsapifake.Fake) { f.FailNext(1, 503) }, kind: forward.Transient, status: 503, message: "UNAVAILABLE"},
		{name: "bad request", setup: func(f *googleadsapifake.Fake) { f.FailNext(1, 400) }, kind: forward.Permanent, status: 400, message: "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			if tt.creds != nil {
				c := creds()
				tt.creds(c)
				p, err := googleadsapi.New(config.Destination{Name: "g", GoogleAdsAPI: &v1alpha1.GoogleAdsDestination{
					Endpoint: v1alpha1.Endpoint{Endpoint: h.srv.URL}, TokenURL: h.srv.URL + googleadsapifake.TokenPath,
					CustomerID: customerID, ConversionActionID: actionID}}, c, h.srv.Client())
				if err != nil {
					t.Fatal(err)
				}
				h.p = p
			}
			if tt.name == "access token revoked" {
				send(t, h.p, forward.Item{Event: sale("warm")})
			}
			if tt.setup != nil {
				tt.setup(h.fake)
			}
			_, err := h.p.Send(context.Background(), []forward.Item{{Event: sale("a")}})
			var fe *forward.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *forward.Error", err)
			}
			if fe.Kind != tt.kind || fe.Status != tt.status || !strings.Contains(fe.Message, tt.message) {
				t.Errorf("error %v: want %v, HTTP %d, message with %q", fe, tt.kind, tt.status, tt.message)
			}
			for _, secret := range []string{clientSecret, refreshToken, developerToken, "other-token", "ya29."} {
				if strings.Contains(fe.Error(), secret) {
					t.Errorf("error text %q carries a credential", fe.Error())
				}
			}
		})
	}
}

func TestRevokedTokenRefreshedAfter401(t *testing.T) {
	h := newHarness(t, nil)
	send(t, h.p, forward.Item{Event: sale("a")})
	h.fake.Tokens.Revoke()
	if _, err := h.p.Send(context.Background(), []forward.Item{{Event: sale("b")}}); err == nil {
		t.Fatal("want the 401")
	}
	if out := send(t, h.p, forward.Item{Event: sale("c")}); out[0].Status != forward.Sent {
		t.Errorf("after refresh: %+v", out[0])
	}
	if got := h.fake.Tokens.Hits(); got != 2 {
		t.Errorf("token hits %d, want 2", got)
	}
}

// When only one of the two uploads fails, its items carry the failure
// and the other's outcomes stand.
func TestOneOfTwoUploadsFails(t *testing.T) {
	h := newHarness(t, nil)
	orig := sale("s1")
	h.fake.RecordConversion(orig.OrderID, saleTime)
	h.fake.FailNext(1, 503) // the click upload goes first
	cancel := forward.Item{Event: event.Event{EventID: "c", Name: "cancel", OrderID: orig.OrderID, Timestamp: saleTime.Add(time.Hour)}, Original: &orig}
	out := send(t, h.p, forward.Item{Event: sale("s2")}, cancel)
	if out[0].Status != forward.Retry || !strings.Contains(out[0].Reason, "503") {
		t.Errorf("click upload failed with 503: %+v, want Retry", out[0])
	}
	if out[1].Status != forward.Sent {
		t.Errorf("adjustment: %+v", out[1])
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	block := &v1alpha1.GoogleAdsDestination{CustomerID: customerID, ConversionActionID: actionID}
	noDev := creds()
	delete(noDev, "developerToken")
	tests := []struct {
		name  string
		d     config.Destination
		creds forward.Credentials
		want  string
	}{
		{"no block", config.Destination{Name: "g"}, creds(), "googleAdsAPI settings block is missing"},
		{"bad customer", config.Destination{Name: "g", GoogleAdsAPI: &v1alpha1.GoogleAdsDestination{CustomerID: "12", ConversionActionID: actionID}}, creds(), "customerID"},
		{"no developer token", config.Destination{Name: "g", GoogleAdsAPI: block}, noDev, `"developerToken" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := googleadsapi.New(tt.d, tt.creds, http.DefaultClient); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	h := newHarness(t, nil)
	d := h.p.DefaultEvents()
	if h.p.MaxBatch() != 2000 || d["purchase"] == "" || d["refund"] != "adjustment" || d["cancel"] != "adjustment" {
		t.Errorf("MaxBatch %d, defaults %v", h.p.MaxBatch(), d)
	}
}

// The engine sends batches concurrently: one token refresh serves them all.
func TestConcurrentSendsShareOneToken(t *testing.T) {
	h := newHarness(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := h.p.Send(context.Background(), []forward.Item{{Event: sale(string(rune('a' + i)))}})
			if err == nil && out[0].Status != forward.Sent {
				err = errors.New(out[0].Reason)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if hits, n := h.fake.Tokens.Hits(), len(h.fake.Conversions()); hits != 1 || n != 8 {
		t.Errorf("token hits %d (want 1), conversions %d (want 8)", hits, n)
	}
}
