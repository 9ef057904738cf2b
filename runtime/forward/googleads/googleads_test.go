package googleads_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	datamanager "google.golang.org/api/datamanager/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/googleads"
	"github.com/trackstack/trackstack/runtime/forward/googleads/googleadsfake"
)

const (
	clientID     = "1234-fake.apps.googleusercontent.com"
	clientSecret = "GOCSPX-secret-never-shown"
	refreshToken = "1//refresh-never-shown"
	customerID   = "1234567890"
	loginID      = "9876543210"
	actionID     = "555"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

type harness struct {
	fake *googleadsfake.Fake
	srv  *httptest.Server
	p    *googleads.Platform
}

func newHarness(t *testing.T, edit func(*v1alpha1.GoogleAdsDestination)) *harness {
	t.Helper()
	fake := googleadsfake.New(clientID, clientSecret, refreshToken)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	block := &v1alpha1.GoogleAdsDestination{
		Endpoint:           v1alpha1.Endpoint{Endpoint: srv.URL},
		TokenURL:           srv.URL + googleadsfake.TokenPath,
		CustomerID:         customerID,
		ConversionActionID: actionID,
	}
	if edit != nil {
		edit(block)
	}
	p, err := googleads.New(config.Destination{Name: "gads", Type: v1alpha1.DestinationGoogleAds, GoogleAds: block}, creds(), &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &harness{fake: fake, srv: srv, p: p}
}

func creds() forward.Credentials {
	return forward.Credentials{"clientID": clientID, "clientSecret": clientSecret, "refreshToken": refreshToken}
}

var saleTime = time.Date(2026, 11, 20, 15, 4, 5, 0, time.FixedZone("CET", 3600))

func sale(id string) event.Event {
	v := 49.9
	return event.Event{
		EventID: id, Type: event.TypeConversion, Name: "purchase", Timestamp: saleTime,
		ClickIDs: map[string]string{"gclid": "Cj0KCQ-gclid-" + id}, Value: &v, Currency: "eur", OrderID: "order-" + id,
	}
}

func send(t *testing.T, p *googleads.Platform, items ...forward.Item) []forward.Outcome {
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

func TestSendMapsEvents(t *testing.T) {
	value := func(v float64) *float64 { return &v }
	tests := []struct {
		name  string
		edit  func(*event.Event)
		check func(t *testing.T, e *datamanager.Event)
	}{
		{
			// Data Manager's example: gmail loses the dots and the +tag.
			name: "gmail address: the Google digest, not the common one",
			edit: func(e *event.Event) {
				e.User.EmailSHA256 = sha("cloudy.sanfrancisco+shopping@gmail.com")
				e.User.EmailGoogleSHA256 = sha("cloudysanfrancisco@gmail.com")
			},
			check: func(t *testing.T, e *datamanager.Event) {
				wantIdentifiers(t, e, &datamanager.UserIdentifier{EmailAddress: sha("cloudysanfrancisco@gmail.com")})
			},
		},
		{
			// Data Manager's example: other domains keep dots and +tags.
			name: "other domain: the common digest",
			edit: func(e *event.Event) { e.User.EmailSHA256 = sha("user.name+nyc@example.com") },
			check: func(t *testing.T, e *datamanager.Event) {
				wantIdentifiers(t, e, &datamanager.UserIdentifier{EmailAddress: sha("user.name+nyc@example.com")})
			},
		},
		{
			// Data Manager's example: (800)555-0100 → +18005550100.
			name: "phone: the E.164 digest with +, not Meta's digits",
			edit: func(e *event.Event) {
				e.User.PhoneSHA256 = sha("18005550100")
				e.User.PhoneE164SHA256 = sha("+18005550100")
			},
			check: func(t *testing.T, e *datamanager.Event) {
				wantIdentifiers(t, e, &datamanager.UserIdentifier{PhoneNumber: sha("+18005550100")})
			},
		},
		{
			name: "an upper-case digest passes through lower-cased, never hashed again",
			edit: func(e *event.Event) { e.User.EmailSHA256 = strings.ToUpper(sha("user.name+nyc@example.com")) },
			check: func(t *testing.T, e *datamanager.Event) {
				wantIdentifiers(t, e, &datamanager.UserIdentifier{EmailAddress: sha("user.name+nyc@example.com")})
			},
		},
		{
			name: "a value that is not a digest is never sent",
			edit: func(e *event.Event) { e.User.EmailSHA256 = "someone@example.com" },
			check: func(t *testing.T, e *datamanager.Event) {
				if e.UserData != nil {
					t.Errorf("userData = %+v, want none", e.UserData.UserIdentifiers)
				}
			},
		},
		{
			name: "gclid wins over gbraid",
			edit: func(e *event.Event) { e.ClickIDs = map[string]string{"gclid": "G1", "gbraid": "B1"} },
			check: func(t *testing.T, e *datamanager.Event) {
				if e.AdIdentifiers.Gclid != "G1" || e.AdIdentifiers.Gbraid != "" {
					t.Errorf("adIdentifiers = %+v", e.AdIdentifiers)
				}
			},
		},
		{
			name: "wbraid alone",
			edit: func(e *event.Event) { e.ClickIDs = map[string]string{"wbraid": "W1", "fbclid": "F1"} },
			check: func(t *testing.T, e *datamanager.Event) {
				if a := e.AdIdentifiers; a.Wbraid != "W1" || a.Gclid != "" || a.Gbraid != "" {
					t.Errorf("adIdentifiers = %+v", e.AdIdentifiers)
				}
			},
		},
		{
			name: "sale fields, timestamp with its zone",
			check: func(t *testing.T, e *datamanager.Event) {
				if e.TransactionId != "order-e1" || e.ConversionValue != 49.9 || e.Currency != "EUR" ||
					e.EventTimestamp != "2026-11-20T15:04:05+01:00" || e.EventSource != "WEB" || e.Consent != nil {
					t.Errorf("event = %+v", e)
				}
			},
		},
		{
			name: "no order id: the event id is the transaction id",
			edit: func(e *event.Event) { e.OrderID = "" },
			check: func(t *testing.T, e *datamanager.Event) {
				if e.TransactionId != "e1" {
					t.Errorf("transactionId = %q, want e1", e.TransactionId)
				}
			},
		},
		{
			name: "a zero value is sent, not dropped",
			edit: func(e *event.Event) { e.Value = value(0) },
			check: func(t *testing.T, e *datamanager.Event) {
				if e.ConversionValue != 0 || e.Currency != "EUR" {
					t.Errorf("value %v %q", e.ConversionValue, e.Currency)
				}
			},
		},
		{
			name: "consent granted and denied; unset stays unset",
			edit: func(e *event.Event) { e.Consent = event.Consent{AdUserData: "granted", AdPersonalization: "denied"} },
			check: func(t *testing.T, e *datamanager.Event) {
				if c := e.Consent; c.AdUserData != "CONSENT_GRANTED" || c.AdPersonalization != "CONSENT_DENIED" {
					t.Errorf("consent = %+v", e.Consent)
				}
			},
		},
		{
			name: "one purpose signalled",
			edit: func(e *event.Event) { e.Consent = event.Consent{AdUserData: "denied"} },
			check: func(t *testing.T, e *datamanager.Event) {
				if c := e.Consent; c.AdUserData != "CONSENT_DENIED" || c.AdPersonalization != "" {
					t.Errorf("consent = %+v", e.Consent)
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
				t.Fatalf("outcome = %+v, want sent with a request id", out[0])
			}
			got := h.fake.Events()
			if len(got) != 1 {
				t.Fatalf("fake recorded %d events", len(got))
			}
			tt.check(t, got[0])
		})
	}
}

func wantIdentifiers(t *testing.T, e *datamanager.Event, want ...*datamanager.UserIdentifier) {
	t.Helper()
	if e.UserData == nil || len(e.UserData.UserIdentifiers) != len(want) {
		t.Fatalf("userData = %+v, want %d identifiers", e.UserData, len(want))
	}
	for i, w := range want {
		if g := e.UserData.UserIdentifiers[i]; g.EmailAddress != w.EmailAddress || g.PhoneNumber != w.PhoneNumber {
			t.Errorf("identifier %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestSendRequestShape(t *testing.T) {
	h := newHarness(t, func(b *v1alpha1.GoogleAdsDestination) { b.LoginCustomerID = loginID; b.ValidateOnly = true })
	out := send(t, h.p, forward.Item{Event: sale("a")}, forward.Item{Event: sale("b")})
	reqs := h.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	d := r.Destinations[0]
	if d.OperatingAccount.AccountType != "GOOGLE_ADS" || d.OperatingAccount.AccountId != customerID ||
		d.LoginAccount == nil || d.LoginAccount.AccountId != loginID || d.ProductDestinationId != actionID {
		t.Errorf("destination = %+v %+v %+v", d, d.OperatingAccount, d.LoginAccount)
	}
	if r.Encoding != "HEX" || !r.ValidateOnly || len(r.Events) != 2 {
		t.Errorf("request encoding %q validateOnly %v events %d", r.Encoding, r.ValidateOnly, len(r.Events))
	}
	if n := len(h.fake.Events()); n != 0 {
		t.Errorf("validateOnly recorded %d events", n)
	}
	if out[0].ResponseID == "" || out[0].ResponseID != out[1].ResponseID {
		t.Errorf("response ids %q %q: want the request's id on both", out[0].ResponseID, out[1].ResponseID)
	}
}

func TestSendFailsUnmatchableBeforeSending(t *testing.T) {
	h := newHarness(t, nil)
	bare := sale("bare")
	bare.ClickIDs = map[string]string{"fbclid": "F"}
	negative := sale("neg")
	v := -3.0
	negative.Value = &v
	out := send(t, h.p, forward.Item{Event: bare}, forward.Item{Event: sale("ok")}, forward.Item{Event: negative})
	if out[0].Status != forward.Failed || !strings.Contains(out[0].Reason, "gclid") {
		t.Errorf("unmatchable: %+v", out[0])
	}
	if out[1].Status != forward.Sent {
		t.Errorf("good event: %+v", out[1])
	}
	if out[2].Status != forward.Failed || !strings.Contains(out[2].Reason, "negative") {
		t.Errorf("negative value: %+v", out[2])
	}
	if n := len(h.fake.Events()); n != 1 {
		t.Errorf("fake got %d events, want only the good one", n)
	}

	out = send(t, h.p, forward.Item{Event: bare})
	if out[0].Status != forward.Failed || h.fake.RequestCount() != 1 {
		t.Errorf("a batch of only unmatchable events made a request (%d) or was not failed: %+v", h.fake.RequestCount(), out[0])
	}
}

func TestRefundsAndCancellations(t *testing.T) {
	orig := sale("s1")
	orig.User.EmailSHA256 = sha("user.name+nyc@example.com")
	refund := func(amount *float64, original *event.Event) forward.Item {
		e := event.Event{EventID: "r1", Type: event.TypeConversion, Name: "refund", Timestamp: saleTime.Add(48 * time.Hour),
			OrderID: orig.OrderID, Value: amount, Currency: "EUR"}
		return forward.Item{Event: e, Name: "adjustment", Original: original}
	}
	v := func(f float64) *float64 { return &f }
	cancel := forward.Item{Event: event.Event{EventID: "c1", Name: "cancel", OrderID: orig.OrderID, Timestamp: saleTime.Add(time.Hour)}, Original: &orig}

	h := newHarness(t, nil)
	out := send(t, h.p, refund(v(10), &orig), refund(v(49.9), &orig), refund(nil, &orig), cancel, refund(v(5), nil))

	if out[0].Status != forward.Sent {
		t.Fatalf("partial refund: %+v", out[0])
	}
	for i, what := range []string{"full refund", "refund without amount", "cancel"} {
		if o := out[i+1]; o.Status != forward.Failed || !strings.Contains(o.Reason, "googleAdsAPI") {
			t.Errorf("%s: %+v, want failed pointing at googleAdsAPI", what, o)
		}
	}
	if o := out[4]; o.Status != forward.Failed || !strings.Contains(o.Reason, "stored sale") {
		t.Errorf("refund without original: %+v", o)
	}
	got := h.fake.Events()
	if len(got) != 1 {
		t.Fatalf("fake got %d events, want the one restatement", len(got))
	}
	e := got[0]
	// The restatement is the sale again, same transactionId, new value.
	if e.TransactionId != orig.OrderID || e.ConversionValue != 39.9 || e.Currency != "EUR" ||
		e.AdIdentifiers.Gclid != orig.ClickIDs["gclid"] || e.EventTimestamp != "2026-11-20T15:04:05+01:00" {
		t.Errorf("restatement = %+v", e)
	}
	wantIdentifiers(t, e, &datamanager.UserIdentifier{EmailAddress: sha("user.name+nyc@example.com")})
}

func TestTokenCachedAcrossSends(t *testing.T) {
	h := newHarness(t, nil)
	for i := range 4 {
		send(t, h.p, forward.Item{Event: sale(string(rune('a' + i)))})
	}
	if got := h.fake.Tokens.Hits(); got != 1 {
		t.Errorf("token endpoint hit %d times over 4 sends, want 1", got)
	}
	if got := h.fake.RequestCount(); got != 4 {
		t.Errorf("ingest hit %d times, want 4", got)
	}
}

func TestRevokedTokenIsAuthThenRefreshed(t *testing.T) {
	h := newHarness(t, nil)
	send(t, h.p, forward.Item{Event: sale("a")})
	h.fake.Tokens.Revoke()
	_, err := h.p.Send(context.Background(), []forward.Item{{Event: sale("b")}})
	wantKind(t, err, forward.Auth, 401)
	send(t, h.p, forward.Item{Event: sale("c")})
	if got := h.fake.Tokens.Hits(); got != 2 {
		t.Errorf("token endpoint hit %d times, want 2 (one refresh after the 401)", got)
	}
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*googleadsfake.Fake)
		kind    forward.Kind
		status  int
		message string
	}{
		{"refresh token revoked", func(f *googleadsfake.Fake) { f.Tokens.FailNext(1, 400, "invalid_grant") }, forward.Auth, 400, "invalid_grant"},
		{"client deleted", func(f *googleadsfake.Fake) { f.Tokens.FailNext(1, 401, "invalid_client") }, forward.Auth, 401, "invalid_client"},
		{"token endpoint down", func(f *googleadsfake.Fake) { f.Tokens.FailNext(1, 503, "temporarily_unavailable") }, forward.Transient, 503, "temporarily_unavailable"},
		{"quota", func(f *googleadsfake.Fake) { f.FailNext(1, 429) }, forward.Transient, 429, "RESOURCE_EXHAUSTED"},
		{"internal", func(f *googleadsfake.Fake) { f.FailNext(1, 500) }, forward.Transient, 500, "INTERNAL"},
		{"unavailable", func(f *googleadsfake.Fake) { f.FailNext(1, 503) }, forward.Transient, 503, "UNAVAILABLE"},
		{"no access to the account", func(f *googleadsfake.Fake) { f.FailNext(1, 403) }, forward.Auth, 403, "PERMISSION_DENIED"},
		{"bad request", func(f *googleadsfake.Fake) { f.FailNext(1, 400) }, forward.Permanent, 400, "INVALID_ARGUMENT: injected failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tt.setup(h.fake)
			_, err := h.p.Send(context.Background(), []forward.Item{{Event: sale("a")}})
			fe := wantKind(t, err, tt.kind, tt.status)
			if !strings.Contains(fe.Message, tt.message) {
				t.Errorf("message %q lacks %q", fe.Message, tt.message)
			}
		})
	}
}

func TestConnectionErrorIsTransient(t *testing.T) {
	h := newHarness(t, nil)
	send(t, h.p, forward.Item{Event: sale("a")}) // token cached
	h.srv.Close()
	_, err := h.p.Send(context.Background(), []forward.Item{{Event: sale("b")}})
	fe := wantKind(t, err, forward.Transient, 0)
	if strings.Contains(fe.Message, h.srv.URL) {
		t.Errorf("message %q carries the URL", fe.Message)
	}
}

// wantKind asserts err is a *forward.Error of kind and status, with no
// credential in its text.
func wantKind(t *testing.T, err error, kind forward.Kind, status int) *forward.Error {
	t.Helper()
	var fe *forward.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *forward.Error", err)
	}
	if fe.Kind != kind || fe.Status != status {
		t.Errorf("error %v: kind %v status %d, want %v %d", fe, fe.Kind, fe.Status, kind, status)
	}
	for _, secret := range []string{clientSecret, refreshToken, "ya29."} {
		if strings.Contains(fe.Error(), secret) {
			t.Errorf("error text %q carries a credential", fe.Error())
		}
	}
	return fe
}

func TestNewRejectsBadSettings(t *testing.T) {
	good := func() *v1alpha1.GoogleAdsDestination {
		return &v1alpha1.GoogleAdsDestination{CustomerID: customerID, ConversionActionID: actionID}
	}
	tests := []struct {
		name  string
		block *v1alpha1.GoogleAdsDestination
		creds forward.Credentials
		want  string
	}{
		{"no block", nil, creds(), "googleAds settings block is missing"},
		{"dashed customer id", func() *v1alpha1.GoogleAdsDestination { b := good(); b.CustomerID = "123-456-7890"; return b }(), creds(), "customerID"},
		{"no conversion action", func() *v1alpha1.GoogleAdsDestination { b := good(); b.ConversionActionID = ""; return b }(), creds(), "conversionActionID"},
		{"bad login id", func() *v1alpha1.GoogleAdsDestination { b := good(); b.LoginCustomerID = "12"; return b }(), creds(), "loginCustomerID"},
		{"bad endpoint", func() *v1alpha1.GoogleAdsDestination { b := good(); b.Endpoint.Endpoint = "ftp://x"; return b }(), creds(), "endpoint"},
		{"bad token url", func() *v1alpha1.GoogleAdsDestination { b := good(); b.TokenURL = "nope"; return b }(), creds(), "tokenURL"},
		{"no refresh token", good(), forward.Credentials{"clientID": "a", "clientSecret": "b"}, `"refreshToken" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := googleads.New(config.Destination{Name: "g", GoogleAds: tt.block}, tt.creds, http.DefaultClient)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	h := newHarness(t, nil)
	if h.p.MaxBatch() != 2000 {
		t.Errorf("MaxBatch = %d", h.p.MaxBatch())
	}
	d := h.p.DefaultEvents()
	if d["purchase"] == "" || d["refund"] == "" || d["cancel"] != "" {
		t.Errorf("defaults = %v: want purchase and refund, not cancel (which can only fail)", d)
	}
}
