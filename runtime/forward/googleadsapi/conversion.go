package googleadsapi

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
)

// dateTimeLayout is the Google Ads API's "yyyy-mm-dd hh:mm:ss+|-hh:mm".
const dateTimeLayout = "2006-01-02 15:04:05-07:00"

// clickConversion is a ClickConversion as the REST API spells it.
type clickConversion struct {
	Gclid              string           `json:"gclid,omitempty"`
	Gbraid             string           `json:"gbraid,omitempty"`
	Wbraid             string           `json:"wbraid,omitempty"`
	ConversionAction   string           `json:"conversionAction"`
	ConversionDateTime string           `json:"conversionDateTime"`
	ConversionValue    *float64         `json:"conversionValue,omitempty"`
	CurrencyCode       string           `json:"currencyCode,omitempty"`
	OrderID            string           `json:"orderId,omitempty"`
	UserIdentifiers    []userIdentifier `json:"userIdentifiers,omitempty"`
	Consent            *consent         `json:"consent,omitempty"`
}

// userIdentifier holds exactly one identifier (a oneof in the proto).
type userIdentifier struct {
	HashedEmail       string `json:"hashedEmail,omitempty"`
	HashedPhoneNumber string `json:"hashedPhoneNumber,omitempty"`
}

type consent struct {
	AdUserData string `json:"adUserData"`
}

// conversionAdjustment is a ConversionAdjustment identified by order id.
type conversionAdjustment struct {
	ConversionAction   string            `json:"conversionAction"`
	AdjustmentType     string            `json:"adjustmentType"`
	AdjustmentDateTime string            `json:"adjustmentDateTime"`
	OrderID            string            `json:"orderId"`
	RestatementValue   *restatementValue `json:"restatementValue,omitempty"`
}

type restatementValue struct {
	AdjustedValue float64 `json:"adjustedValue"`
	CurrencyCode  string  `json:"currencyCode,omitempty"`
}

// Adjustment types.
const (
	retraction  = "RETRACTION"
	restatement = "RESTATEMENT"
)

func isAdjustment(name string) bool { return name == "refund" || name == "cancel" }

// clickConversion maps a conversion, or says why Google could not take it.
func (p *Platform) clickConversion(e *event.Event) (any, string) {
	c := &clickConversion{
		ConversionAction:   p.action,
		ConversionDateTime: e.Timestamp.Format(dateTimeLayout),
		OrderID:            orderID(e),
		UserIdentifiers:    userIdentifiers(e.User),
		Consent:            adConsent(e.Consent),
	}
	switch {
	case e.ClickIDs["gclid"] != "":
		c.Gclid = e.ClickIDs["gclid"]
	case e.ClickIDs["gbraid"] != "":
		c.Gbraid = e.ClickIDs["gbraid"]
	case e.ClickIDs["wbraid"] != "":
		c.Wbraid = e.ClickIDs["wbraid"]
	}
	if c.Gclid == "" && c.Gbraid == "" && c.Wbraid == "" && len(c.UserIdentifiers) == 0 {
		return nil, "no gclid, gbraid or wbraid, and no hashed email or phone for enhanced conversions for leads: Google cannot match it to an ad click"
	}
	if e.Timestamp.IsZero() {
		return nil, "event has no timestamp"
	}
	if v := e.Value; v != nil {
		if *v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0) {
			return nil, fmt.Sprintf("conversion value %v is negative; Google Ads takes values of 0 or more", *v)
		}
		c.ConversionValue = v
		c.CurrencyCode = strings.ToUpper(e.Currency)
	}
	return c, ""
}

// adjustment maps a refund or a cancellation to a RETRACTION (cancel, full
// refund) or a RESTATEMENT (partial refund) of the sale with that order id.
func (p *Platform) adjustment(it forward.Item) (any, string) {
	orig := it.Original
	if orig == nil || orig.OrderID == "" {
		return nil, it.Event.Name + " without the stored sale it adjusts (order id unknown here): nothing to adjust"
	}
	at := it.Event.Timestamp
	if !at.After(orig.Timestamp) {
		return nil, fmt.Sprintf("%s at %s is not later than the sale at %s; Google rejects adjustments that precede the conversion",
			it.Event.Name, at.Format(time.RFC3339), orig.Timestamp.Format(time.RFC3339))
	}
	a := &conversionAdjustment{
		ConversionAction:   p.action,
		AdjustmentType:     retraction,
		AdjustmentDateTime: at.Format(dateTimeLayout),
		OrderID:            orig.OrderID,
	}
	if it.Event.Name == "cancel" || orig.Value == nil || it.Event.Value == nil {
		return a, ""
	}
	refunded := math.Abs(*it.Event.Value)
	if refunded >= *orig.Value {
		return a, ""
	}
	if c := it.Event.Currency; c != "" && orig.Currency != "" && !strings.EqualFold(c, orig.Currency) {
		return nil, fmt.Sprintf("refund in %s of a sale in %s: cannot compute the restated value", strings.ToUpper(c), strings.ToUpper(orig.Currency))
	}
	a.AdjustmentType = restatement
	a.RestatementValue = &restatementValue{AdjustedValue: roundMicros(*orig.Value - refunded), CurrencyCode: strings.ToUpper(orig.Currency)}
	return a, ""
}

// roundMicros drops float noise (49.9 − 10 = 39.900000000000006).
func roundMicros(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// orderID is the sale's order id, which Google deduplicates on and which
// adjustments name; without one, the event id keeps a re-sent event from
// counting twice.
func orderID(e *event.Event) string {
	if e.OrderID != "" {
		return e.OrderID
	}
	return e.EventID
}

// userIdentifiers are the Google digests ingest stored: the email as
// Google normalizes it and the E.164 phone. Only SHA-256 hex digests are
// sent, lower-cased; anything else is left out.
func userIdentifiers(u event.User) []userIdentifier {
	var ids []userIdentifier
	if d := digest(u.GoogleEmail()); d != "" {
		ids = append(ids, userIdentifier{HashedEmail: d})
	}
	if d := digest(u.PhoneE164SHA256); d != "" {
		ids = append(ids, userIdentifier{HashedPhoneNumber: d})
	}
	return ids
}

func digest(s string) string {
	if !enrich.IsSHA256Hex(s) {
		return ""
	}
	return strings.ToLower(s)
}

// adConsent carries ad_user_data, the only purpose uploadClickConversions
// takes (ad_personalization is for customer match only).
func adConsent(c event.Consent) *consent {
	switch c.AdUserData {
	case event.Granted:
		return &consent{AdUserData: "GRANTED"}
	case event.Denied:
		return &consent{AdUserData: "DENIED"}
	}
	return nil
}
