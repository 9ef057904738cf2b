package googleads

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"testing"
	"time"

	datamanager "google.golang.org/api/datamanager/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
)

// TestEncodingMatchesGeneratedClient proves the plain structs write the
// bytes Google's generated client writes for the same request: each event
// is built by the adapter, copied field by field into the generated types
// and encoded by their MarshalJSON.
func TestEncodingMatchesGeneratedClient(t *testing.T) {
	events := wireEvents(t)
	for _, tt := range []struct {
		name  string
		block v1alpha1.GoogleAdsDestination
	}{
		{"login account, validateOnly", v1alpha1.GoogleAdsDestination{CustomerID: "1234567890", LoginCustomerID: "9876543210", ConversionActionID: "555", ValidateOnly: true}},
		{"operating account only", v1alpha1.GoogleAdsDestination{CustomerID: "1234567890", ConversionActionID: "555"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &ingestRequest{
				Destinations: []*dmDestination{destination(&tt.block)},
				Encoding:     "HEX",
				Events:       events,
				ValidateOnly: tt.block.ValidateOnly,
			}
			got, err := req.encode()
			if err != nil {
				t.Fatal(err)
			}
			want, err := generated(req).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("plain structs wrote\n%s\nthe generated client writes\n%s", got, want)
			}
		})
	}
}

// wireEvents covers every field and variant the adapter sends.
func wireEvents(t *testing.T) []*dmEvent {
	t.Helper()
	sha := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	v := func(f float64) *float64 { return &f }
	at := time.Date(2026, 11, 20, 15, 4, 5, 123456000, time.FixedZone("CET", 3600))
	base := func(id string) event.Event {
		return event.Event{EventID: id, Name: "purchase", Timestamp: at, Value: v(49.9), Currency: "eur", OrderID: "order-" + id,
			ClickIDs: map[string]string{"gclid": "Cj0KCQ-" + id}}
	}
	all := base("all")
	all.User = event.User{EmailSHA256: sha("a@example.com"), PhoneE164SHA256: sha("+18005550100")}
	all.Consent = event.Consent{AdUserData: event.Granted, AdPersonalization: event.Denied}
	gbraid := base("gbraid")
	gbraid.ClickIDs = map[string]string{"gbraid": "B1"}
	gbraid.User = event.User{EmailSHA256: sha("b@gmail.com"), EmailGoogleSHA256: sha("b@gmail.com")}
	gbraid.Consent = event.Consent{AdUserData: event.Denied}
	zero := base("zero")
	zero.ClickIDs = map[string]string{"wbraid": "W1"}
	zero.Value = v(0)
	zero.Consent = event.Consent{AdPersonalization: event.Granted}
	noValue := base("novalue")
	noValue.Value, noValue.Currency, noValue.OrderID = nil, "", ""
	noValue.ClickIDs = nil
	noValue.User = event.User{PhoneE164SHA256: sha("+4930123456")}
	// encoding/json escapes <, >, & and U+2028 in strings; the bytes
	// must not depend on which encoder wrote them.
	odd := base(`<odd> & "quoted" \ é` + "\u2028\t")
	odd.Value = v(1e21)
	refund := forward.Item{
		Event:    event.Event{EventID: "r1", Name: "refund", Timestamp: at.Add(time.Hour), Value: v(10), Currency: "EUR", OrderID: all.OrderID},
		Original: &all,
	}
	var out []*dmEvent
	for _, it := range []forward.Item{{Event: all}, {Event: gbraid}, {Event: zero}, {Event: noValue}, {Event: odd}, refund} {
		ev, reason := buildEvent(it)
		if reason != "" {
			t.Fatalf("event %s not built: %s", it.Event.EventID, reason)
		}
		out = append(out, ev)
	}
	return out
}

// generated copies a request into the generated client's types.
func generated(r *ingestRequest) *datamanager.IngestEventsRequest {
	out := &datamanager.IngestEventsRequest{Encoding: r.Encoding, ValidateOnly: r.ValidateOnly}
	for _, d := range r.Destinations {
		out.Destinations = append(out.Destinations, &datamanager.Destination{
			LoginAccount:         generatedAccount(d.LoginAccount),
			OperatingAccount:     generatedAccount(d.OperatingAccount),
			ProductDestinationId: d.ProductDestinationID,
		})
	}
	for _, e := range r.Events {
		out.Events = append(out.Events, generatedEvent(e))
	}
	return out
}

func generatedAccount(a *dmAccount) *datamanager.ProductAccount {
	if a == nil {
		return nil
	}
	return &datamanager.ProductAccount{AccountId: a.AccountID, AccountType: a.AccountType}
}

func generatedEvent(e *dmEvent) *datamanager.Event {
	g := &datamanager.Event{
		Currency:       e.Currency,
		EventSource:    e.EventSource,
		EventTimestamp: e.EventTimestamp,
		TransactionId:  e.TransactionID,
	}
	if a := e.AdIdentifiers; a != nil {
		g.AdIdentifiers = &datamanager.AdIdentifiers{Gbraid: a.Gbraid, Gclid: a.Gclid, Wbraid: a.Wbraid}
	}
	if c := e.Consent; c != nil {
		g.Consent = &datamanager.Consent{AdPersonalization: c.AdPersonalization, AdUserData: c.AdUserData}
	}
	if e.ConversionValue != nil {
		g.ConversionValue = *e.ConversionValue
		if g.ConversionValue == 0 {
			// omitempty would drop a real zero.
			g.ForceSendFields = []string{"ConversionValue"}
		}
	}
	if u := e.UserData; u != nil {
		g.UserData = &datamanager.UserData{}
		for _, id := range u.UserIdentifiers {
			g.UserData.UserIdentifiers = append(g.UserData.UserIdentifiers, &datamanager.UserIdentifier{EmailAddress: id.EmailAddress, PhoneNumber: id.PhoneNumber})
		}
	}
	return g
}

// FuzzEncode checks the hand-written encoder against json.Marshal of the
// same structs, for any text and value in the fields that carry outside
// input.
func FuzzEncode(f *testing.F) {
	f.Add("Cj0KCQ-gclid", "order-1", "eur", 49.9, true)
	f.Add(`<a href="x">&amp;</a>`, "caf\xc3\xa9\u2028\u2029\x7f", "\x00\x1f\b\f\n\r\t\\", 1e-7, false)
	f.Add("\xff\xfe", "", "\xed\xa0\x80", 1e21, true)
	f.Add("", "\"", "'", -0.0, false)
	f.Add("x", "y", "z", 123456789.125e-12, false)
	f.Fuzz(func(t *testing.T, click, order, currency string, value float64, validateOnly bool) {
		if math.IsNaN(value) || math.IsInf(value, 0) {
			t.Skip("the adapter never sends them; encoding/json refuses them too")
		}
		r := &ingestRequest{
			Destinations: []*dmDestination{{OperatingAccount: &dmAccount{AccountID: order, AccountType: currency}, ProductDestinationID: click}, {}},
			Encoding:     currency,
			Events: []*dmEvent{
				{AdIdentifiers: &dmAdIdentifiers{Gclid: click, Wbraid: order}, Consent: &dmConsent{AdUserData: currency},
					ConversionValue: &value, Currency: currency, EventSource: click, EventTimestamp: order, TransactionID: order,
					UserData: &dmUserData{UserIdentifiers: []dmUserIdentifier{{EmailAddress: click}, {PhoneNumber: order}}}},
				{TransactionID: click, UserData: &dmUserData{}},
			},
			ValidateOnly: validateOnly,
		}
		got, err := r.encode()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("encode wrote\n%s\njson.Marshal\n%s", got, want)
		}
	})
}
