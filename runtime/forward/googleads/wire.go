package googleads

import "encoding/json"

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

// encode is the request body.
func (r *ingestRequest) encode() ([]byte, error) {
	return json.Marshal(r)
}
