package googleads

import (
	"fmt"
	"math"

	"github.com/trackstack/trackstack/runtime/forward/internal/jsonwire"
)

// The request body of events:ingest as plain structs. Google's generated
// client (google.golang.org/api/datamanager/v1) writes the same JSON, but
// every one of its types has a MarshalJSON method, so encoding/json
// re-validates and compacts each nested object's output: a second pass
// over every event of a 2,000-event batch. These structs declare only the
// fields this adapter sends, with the generated types' JSON names,
// omitempty rules and field order (alphabetical), so the bytes are the
// same (wire_test.go compares them).

type ingestRequest struct {
	Destinations []*dmDestination `json:"destinations,omitempty"`
	Encoding     string           `json:"encoding,omitempty"`
	Events       []*dmEvent       `json:"events,omitempty"`
	ValidateOnly bool             `json:"validateOnly,omitempty"`
}

type dmDestination struct {
	LoginAccount         *dmAccount `json:"loginAccount,omitempty"`
	OperatingAccount     *dmAccount `json:"operatingAccount,omitempty"`
	ProductDestinationID string     `json:"productDestinationId,omitempty"`
}

type dmAccount struct {
	AccountID   string `json:"accountId,omitempty"`
	AccountType string `json:"accountType,omitempty"`
}

type dmEvent struct {
	AdIdentifiers *dmAdIdentifiers `json:"adIdentifiers,omitempty"`
	Consent       *dmConsent       `json:"consent,omitempty"`
	// ConversionValue is a pointer so that a real zero is sent; nil
	// leaves the field out, as for an event without a value.
	ConversionValue *float64    `json:"conversionValue,omitempty"`
	Currency        string      `json:"currency,omitempty"`
	EventSource     string      `json:"eventSource,omitempty"`
	EventTimestamp  string      `json:"eventTimestamp,omitempty"`
	TransactionID   string      `json:"transactionId,omitempty"`
	UserData        *dmUserData `json:"userData,omitempty"`
}

type dmAdIdentifiers struct {
	Gbraid string `json:"gbraid,omitempty"`
	Gclid  string `json:"gclid,omitempty"`
	Wbraid string `json:"wbraid,omitempty"`
}

type dmUserData struct {
	UserIdentifiers []dmUserIdentifier `json:"userIdentifiers,omitempty"`
}

type dmUserIdentifier struct {
	EmailAddress string `json:"emailAddress,omitempty"`
	PhoneNumber  string `json:"phoneNumber,omitempty"`
}

type dmConsent struct {
	AdPersonalization string `json:"adPersonalization,omitempty"`
	AdUserData        string `json:"adUserData,omitempty"`
}

// ingestResponse is the part of Google's answer the adapter reads.
type ingestResponse struct {
	RequestID string `json:"requestId"`
}

// encode is the request body: the bytes json.Marshal writes for r
// (TestEncodeMatchesMarshal), appended field by field, since reflection
// over 2,000 events was most of what remained of the adapter's cost.
func (r *ingestRequest) encode() ([]byte, error) {
	b := make([]byte, 0, 256+len(r.Events)*600)
	b = append(b, '{')
	if len(r.Destinations) > 0 {
		b = append(b, `"destinations":[`...)
		for i, d := range r.Destinations {
			if i > 0 {
				b = append(b, ',')
			}
			b = d.appendJSON(b)
		}
		b = append(b, "],"...)
	}
	b = field(b, "encoding", r.Encoding)
	if len(r.Events) > 0 {
		b = append(b, `"events":[`...)
		for i, e := range r.Events {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, "],"...)
	}
	if r.ValidateOnly {
		b = append(b, `"validateOnly":true,`...)
	}
	return jsonwire.CloseObject(b), nil
}

func (d *dmDestination) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = d.LoginAccount.appendField(b, "loginAccount")
	b = d.OperatingAccount.appendField(b, "operatingAccount")
	b = field(b, "productDestinationId", d.ProductDestinationID)
	return jsonwire.CloseObject(b)
}

func (a *dmAccount) appendField(b []byte, name string) []byte {
	if a == nil {
		return b
	}
	b = jsonwire.AppendKey(b, name)
	b = append(b, '{')
	b = field(b, "accountId", a.AccountID)
	b = field(b, "accountType", a.AccountType)
	return append(jsonwire.CloseObject(b), ',')
}

func (e *dmEvent) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	if a := e.AdIdentifiers; a != nil {
		b = append(b, `"adIdentifiers":{`...)
		b = field(b, "gbraid", a.Gbraid)
		b = field(b, "gclid", a.Gclid)
		b = field(b, "wbraid", a.Wbraid)
		b = append(jsonwire.CloseObject(b), ',')
	}
	if c := e.Consent; c != nil {
		b = append(b, `"consent":{`...)
		b = field(b, "adPersonalization", c.AdPersonalization)
		b = field(b, "adUserData", c.AdUserData)
		b = append(jsonwire.CloseObject(b), ',')
	}
	if v := e.ConversionValue; v != nil {
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			return nil, fmt.Errorf("conversionValue %v is not a JSON number", *v)
		}
		b = jsonwire.AppendFloat(append(b, `"conversionValue":`...), *v)
		b = append(b, ',')
	}
	b = field(b, "currency", e.Currency)
	b = field(b, "eventSource", e.EventSource)
	b = field(b, "eventTimestamp", e.EventTimestamp)
	b = field(b, "transactionId", e.TransactionID)
	if u := e.UserData; u != nil {
		b = append(b, `"userData":{`...)
		if len(u.UserIdentifiers) > 0 {
			b = append(b, `"userIdentifiers":[`...)
			for i, id := range u.UserIdentifiers {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				b = field(b, "emailAddress", id.EmailAddress)
				b = field(b, "phoneNumber", id.PhoneNumber)
				b = jsonwire.CloseObject(b)
			}
			b = append(b, ']')
		}
		b = append(b, "},"...)
	}
	return jsonwire.CloseObject(b), nil
}

// field appends "name":"value", for a value that is not empty
// (omitempty).
func field(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = jsonwire.AppendKey(b, name)
	return append(jsonwire.AppendString(b, value), ',')
}
