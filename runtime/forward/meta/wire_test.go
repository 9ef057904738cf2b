package meta

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
)

// TestEncodeMatchesMarshal: the hand-written body is byte for byte what
// json.Marshal wrote before it, for requests built from events as Send
// builds them and for fields written directly.
func TestEncodeMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	v, zero, price := 49.9, 0.0, 1e-7
	full := webEvent("order-1", time.Hour)
	full.Timestamp = at
	full.ClickIDs["fbclid"] = "IwAR2xYz_verbatim-Id"
	full.RawIP = "2001:db8::1"
	full.FBP = "fb.1.1700000000000.123456789"
	full.UserID = "  User-42 "
	full.Value, full.Currency, full.OrderID = &v, "eur", "o-1"
	full.User = event.User{
		EmailSHA256: "John_Smith@Gmail.com", PhoneSHA256: "+1 (650) 555-1212", FirstNameSHA256: "John", LastNameSHA256: "Smith",
		CitySHA256: "Menlo Park", ZipSHA256: "94025", CountrySHA256: "US",
	}
	full.Properties = json.RawMessage(`{"content_ids":["A1",7],"contents":[{"id":"A1","quantity":2,"item_price":20},{"id":"B<2>"},{"id":"C","item_price":0.5}]}`)
	special := webEvent(`id "quoted" \ back`, time.Hour)
	special.URL = "https://shop.example.com/?q=<script>&a=b\u2028\u2029"
	special.UserAgent = "Mozilla/5.0 \x00\x1f\t\n caf\xc3\xa9 \xff\xfe \x7f"
	special.FBC = "fb.1.1699999999999.a&b"
	special.Value, special.Currency = &zero, "USD"
	bare := webEvent("bare", time.Minute)

	var events []serverEvent
	for _, it := range []forward.Item{{Event: full, Name: "Purchase"}, {Event: special, Name: "Lead<>"}, {Event: bare, Name: "PageView"}} {
		events = append(events, buildEvent(it))
	}
	requests := []request{
		{Data: events, TestEventCode: "TEST123", AccessToken: "EAAB-token"},
		{Data: events[1:], AccessToken: `tok"en&<>`},
		{Data: []serverEvent{{}}},
		{Data: []serverEvent{{CustomData: &customData{}}}},
		{Data: []serverEvent{{CustomData: &customData{Value: &price, Contents: []content{{ID: "x", Quantity: -3, ItemPrice: &zero}}}}}},
		{Data: []serverEvent{{UserData: userData{Email: []string{}, Phone: []string{"a", "b"}}}}},
		{Data: []serverEvent{}},
		{},
	}
	for i, r := range requests {
		got, ok := r.encode()
		want, err := json.Marshal(r)
		if !ok || err != nil {
			t.Fatalf("request %d: encode ok %v, json.Marshal %v", i, ok, err)
		}
		if string(got) != string(want) {
			t.Errorf("request %d: encode wrote\n%s\njson.Marshal\n%s", i, got, want)
		}
	}
}

// TestEncodeLeavesNonFiniteToMarshal: a value json.Marshal refuses makes
// encode give up, so post returns encoding/json's error as before.
func TestEncodeLeavesNonFiniteToMarshal(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(-1)
	for _, cd := range []*customData{{Value: &nan}, {Contents: []content{{ID: "x", ItemPrice: &inf}}}} {
		r := request{Data: []serverEvent{{CustomData: cd}}}
		if _, ok := r.encode(); ok {
			t.Errorf("encode wrote %+v", cd)
		}
		if _, err := json.Marshal(r); err == nil {
			t.Errorf("json.Marshal wrote %+v", cd)
		}
	}
}

// FuzzEncode compares the hand-written body with json.Marshal's for any
// text and numbers in the fields that carry outside input.
func FuzzEncode(f *testing.F) {
	f.Add("Purchase", "https://shop.example.com/", "Mozilla/5.0", "fb.1.1700000000000.IwAR", int64(1763636400), 49.9, int64(2))
	f.Add(`<a href="x">&amp;</a>`, "caf\xc3\xa9\u2028\u2029\x7f", "\x00\x1f\b\f\n\r\t\\", "\xff\xfe", int64(-1), 1e-7, int64(0))
	f.Add("", "\"", "'", "\xed\xa0\x80", int64(math.MaxInt64), 1e21, int64(math.MinInt64))
	f.Add("x", "y", "z", "", int64(0), -0.0, int64(-5))
	f.Fuzz(func(t *testing.T, name, url, text, cookie string, when int64, value float64, quantity int64) {
		if !finite(value) {
			t.Skip("covered by TestEncodeLeavesNonFiniteToMarshal")
		}
		ev := serverEvent{
			EventName: name, EventTime: when, EventID: text, ActionSource: "website", EventSourceURL: url,
			UserData: userData{Email: []string{text}, ExternalID: []string{cookie, name}, ClientIPAddress: text, ClientUserAgent: text, FBC: cookie, FBP: url},
			CustomData: &customData{Value: &value, Currency: name, OrderID: text, ContentIDs: []string{cookie},
				Contents: []content{{ID: text, Quantity: quantity, ItemPrice: &value}, {ID: cookie}}},
		}
		r := request{Data: []serverEvent{ev, {EventName: text, UserData: userData{ClientUserAgent: cookie}}}, TestEventCode: cookie, AccessToken: url}
		got, ok := r.encode()
		want, err := json.Marshal(r)
		if !ok || err != nil {
			t.Fatalf("encode ok %v, json.Marshal %v", ok, err)
		}
		if string(got) != string(want) {
			t.Errorf("encode wrote\n%s\njson.Marshal\n%s", got, want)
		}
	})
}
