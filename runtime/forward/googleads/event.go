package googleads

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
)

// Reasons for events this adapter cannot send.
const (
	reasonRetraction = "the Data Manager API cannot retract a conversion (only restate its value); " +
		"send cancellations and full refunds through a googleAdsAPI destination (RETRACTION)"
	reasonNoOriginal = "refund without the stored sale it adjusts (order id unknown here): nothing to restate"
)

// buildEvent maps one item, or says why it cannot be sent.
func buildEvent(it forward.Item) (*dmEvent, string) {
	switch it.Event.Name {
	case "cancel":
		return nil, reasonRetraction
	case "refund":
		return restatement(it)
	}
	return conversion(&it.Event, it.Event.Value)
}

// conversion is the Data Manager event of a conversion e with value v.
func conversion(e *event.Event, v *float64) (*dmEvent, string) {
	ev := &dmEvent{
		AdIdentifiers:  adIdentifiers(e.ClickIDs),
		EventTimestamp: e.Timestamp.Format(time.RFC3339Nano),
		TransactionID:  transactionID(e),
		UserData:       userData(e.User),
		Consent:        consent(e.Consent),
		EventSource:    "WEB",
	}
	if ev.AdIdentifiers == nil && ev.UserData == nil {
		return nil, errNoMatch.Error()
	}
	if e.Timestamp.IsZero() {
		return nil, "event has no timestamp"
	}
	if v != nil {
		if *v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0) {
			return nil, fmt.Sprintf("conversion value %v is negative; Google Ads takes values of 0 or more", *v)
		}
		ev.ConversionValue = v
		ev.Currency = strings.ToUpper(e.Currency)
	}
	return ev, ""
}

// restatement turns a refund into the Data Manager API's only adjustment:
// the sale sent again with the same transactionId and its new value,
// which Google applies to the recorded conversion instead of counting a
// new one. Identifiers, time and consent are the sale's, as the original
// conversion carried them.
func restatement(it forward.Item) (*dmEvent, string) {
	orig := it.Original
	if orig == nil || orig.OrderID == "" {
		return nil, reasonNoOriginal
	}
	if orig.Value == nil || it.Event.Value == nil {
		return nil, reasonRetraction
	}
	refunded := math.Abs(*it.Event.Value)
	if refunded >= *orig.Value {
		return nil, reasonRetraction
	}
	if c := it.Event.Currency; c != "" && orig.Currency != "" && !strings.EqualFold(c, orig.Currency) {
		return nil, fmt.Sprintf("refund in %s of a sale in %s: cannot compute the restated value", strings.ToUpper(c), strings.ToUpper(orig.Currency))
	}
	adjusted := *orig.Value - refunded
	return conversion(orig, &adjusted)
}

// transactionID is the order id, which Google deduplicates on and which a
// later restatement names; without one, the event id keeps a re-send of
// the same event from counting twice.
func transactionID(e *event.Event) string {
	if e.OrderID != "" {
		return e.OrderID
	}
	return e.EventID
}

// adIdentifiers takes one click id, the way the Google tag reports one:
// gclid, else gbraid, else wbraid.
func adIdentifiers(ids map[string]string) *dmAdIdentifiers {
	switch {
	case ids["gclid"] != "":
		return &dmAdIdentifiers{Gclid: ids["gclid"]}
	case ids["gbraid"] != "":
		return &dmAdIdentifiers{Gbraid: ids["gbraid"]}
	case ids["wbraid"] != "":
		return &dmAdIdentifiers{Wbraid: ids["wbraid"]}
	}
	return nil
}

// userData holds the Google variants of the stored digests: the email as
// Google normalizes it (gmail dots and +tags removed) and the E.164 phone
// with "+". Only SHA-256 hex digests are sent, lower-cased; anything else
// is left out rather than risk sending personal data in the clear.
func userData(u event.User) *dmUserData {
	email, phone := digest(u.GoogleEmail()), digest(u.PhoneE164SHA256)
	var ids []dmUserIdentifier
	switch {
	case email != "" && phone != "":
		ids = []dmUserIdentifier{{EmailAddress: email}, {PhoneNumber: phone}}
	case email != "":
		ids = []dmUserIdentifier{{EmailAddress: email}}
	case phone != "":
		ids = []dmUserIdentifier{{PhoneNumber: phone}}
	default:
		return nil
	}
	return &dmUserData{UserIdentifiers: ids}
}

func digest(s string) string {
	if !enrich.IsSHA256Hex(s) {
		return ""
	}
	return strings.ToLower(s)
}

// consent maps Consent Mode values to the Data Manager API's; an unset
// purpose stays unset, so Google applies the account's default.
func consent(c event.Consent) *dmConsent {
	out := dmConsent{AdUserData: consentStatus(c.AdUserData), AdPersonalization: consentStatus(c.AdPersonalization)}
	if out.AdUserData == "" && out.AdPersonalization == "" {
		return nil
	}
	return &out
}

func consentStatus(v string) string {
	switch v {
	case event.Granted:
		return "CONSENT_GRANTED"
	case event.Denied:
		return "CONSENT_DENIED"
	}
	return ""
}
