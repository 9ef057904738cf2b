// Package storetest is the conformance suite every store implementation
// passes, and the event fixtures its tests and benchmarks share.
package storetest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// Full returns an event with every field set, including unicode text, a
// fractional value, nested properties and several click ids.
func Full(site, id string, receivedAt time.Time) event.Event {
	v := 1234.5678
	return event.Event{
		Site:       site,
		EventID:    id,
		Type:       event.TypeConversion,
		Name:       "purchase ✓ Kauf 購入",
		Source:     event.SourceServer,
		Timestamp:  receivedAt.Add(-3 * time.Second),
		ReceivedAt: receivedAt,
		VisitorID:  "v-1f2e3d",
		SessionID:  "s-4c5b6a",
		UserID:     "u-42",
		URL:        "https://shop.example.com/checkout/done?ref=ü&q=%E2%9C%93",
		Referrer:   "https://www.google.com/search?q=schuhe",
		UTM: event.UTM{
			Source: "google", Medium: "cpc", Campaign: "sommer_sale_☀", Term: "laufschuhe", Content: "ad-ß",
		},
		ClickIDs: map[string]string{"gclid": "Cj0KCQiA-abc_123", "fbclid": "IwAR2x", "msclkid": "5f6e"},
		Channel:  event.ChannelPaidSearch,
		Value:    &v,
		Currency: "EUR",
		OrderID:  "order-1001",
		Consent: event.Consent{
			AdStorage: event.Granted, AnalyticsStorage: event.Granted, AdUserData: event.Denied, AdPersonalization: event.Denied,
		},
		Device:     event.Device{Browser: "Firefox", OS: "Linux", Type: "desktop"},
		IP:         "203.0.113.0",
		UserAgent:  "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
		Screen:     "1920x1080",
		Language:   "de-DE",
		FBP:        "fb.1.1700000000000.123456789",
		FBC:        "fb.1.1700000000000.IwAR2x",
		GAClientID: "GA1.1.123456789.1700000000",
		User: event.User{
			EmailSHA256:     "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3",
			PhoneSHA256:     "b3a8e0e1f9ab1bfe3a36f231f676f78bb30a519d2b21e6c530c0eee8ebb4a5d0",
			FirstNameSHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
			LastNameSHA256:  "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
			CitySHA256:      "baa5a0964d3320fbc0c6a922140453c8513ea24ab8fd0577034804a967248096",
			ZipSHA256:       "8a5f2b5a4f4e9e0c67e8e1fcd0c0f9b6d3b8b0c4e2e1d8f7a6b5c4d3e2f1a0b9",
			CountrySHA256:   "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621",
		},
		Properties: json.RawMessage(`{"items":[{"sku":"A-1","qty":2,"price":19.99}],"coupon":"SOMMER","gift":false,"note":"Grüße 🎉","n":null}`),
	}
}

// Realistic returns the i-th event of a plausible browser stream: a page
// view or click of about 850 bytes as JSON, the size the benchmarks use.
func Realistic(site string, i int, receivedAt time.Time) event.Event {
	n := strconv.Itoa(i)
	e := event.Event{
		Site:       site,
		EventID:    fmt.Sprintf("%08x-6f1e-4c2b-9a7d-%012x", i, i*7919),
		Type:       event.TypePageview,
		Name:       "pageview",
		Source:     event.SourceBrowser,
		Timestamp:  receivedAt.Add(-250 * time.Millisecond),
		ReceivedAt: receivedAt,
		VisitorID:  "v" + strconv.Itoa(i%5000) + "-8c1f2a7b93d4",
		SessionID:  "s" + strconv.Itoa(i%1200) + "-4e9a0c",
		URL:        "https://shop.example.com/products/trail-runner-" + n,
		Referrer:   "https://www.google.com/",
		UTM:        event.UTM{Source: "google", Medium: "cpc", Campaign: "spring_sale_2026"},
		ClickIDs:   map[string]string{"gclid": "Cj0KCQjw-" + n + "-EAIsAA"},
		Channel:    event.ChannelPaidSearch,
		Consent:    event.Consent{AdStorage: event.Granted, AnalyticsStorage: event.Granted, AdUserData: event.Granted},
		Device:     event.Device{Browser: "Chrome", OS: "Android", Type: "mobile"},
		IP:         "198.51.100.0",
		UserAgent:  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
		Screen:     "412x915",
		Properties: json.RawMessage(`{"title":"Trail Runner ` + n + `"}`),
	}
	if i%4 == 3 {
		e.Type, e.Name = event.TypeClick, "add_to_cart"
		e.Properties = json.RawMessage(`{"sku":"TR-` + n + `","price":89.9}`)
	}
	return e
}
