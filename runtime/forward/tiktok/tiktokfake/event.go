package tiktokfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
)

// Body is a track request.
type Body struct {
	EventSource   string  `json:"event_source"`
	EventSourceID string  `json:"event_source_id"`
	TestEventCode string  `json:"test_event_code"`
	PartnerName   string  `json:"partner_name"`
	Data          []Event `json:"data"`
}

// Event is one element of data[].
type Event struct {
	Event          string                     `json:"event"`
	EventTime      *int64                     `json:"event_time"`
	EventID        string                     `json:"event_id"`
	User           User                       `json:"user"`
	Properties     map[string]json.RawMessage `json:"properties"`
	Page           Page                       `json:"page"`
	LimitedDataUse bool                       `json:"limited_data_use"`
}

// User is the matching data. email, phone and external_id take one digest
// or a list of them.
type User struct {
	Email      Hashes `json:"email"`
	Phone      Hashes `json:"phone"`
	ExternalID Hashes `json:"external_id"`
	TTClid     string `json:"ttclid"`
	TTP        string `json:"ttp"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent"`
	Locale     string `json:"locale"`
}

// Page is where the event happened.
type Page struct {
	URL      string `json:"url"`
	Referrer string `json:"referrer"`
}

// Hashes takes a string or an array of strings.
type Hashes []string

// UnmarshalJSON takes a string or an array of strings.
func (h *Hashes) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*h = Hashes{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("a hashed field must be a string or an array of strings")
	}
	*h = many
	return nil
}

var (
	hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)
	currency  = regexp.MustCompile(`^[A-Z]{3}$`)
)

// parse decodes and checks a body; the message says what is wrong.
func parse(raw []byte, pixelCode string) (*Body, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b Body
	if err := dec.Decode(&b); err != nil {
		return nil, "Invalid request body: " + err.Error()
	}
	switch {
	case b.EventSource != "web":
		return nil, fmt.Sprintf("event_source %q is not supported here: web events need \"web\"", b.EventSource)
	case b.EventSourceID != pixelCode:
		return nil, fmt.Sprintf("event_source_id %q is not a pixel code of this token", b.EventSourceID)
	case len(b.Data) == 0 || len(b.Data) > MaxEvents:
		return nil, fmt.Sprintf("data must hold 1 to %d events, not %d", MaxEvents, len(b.Data))
	}
	for i, ev := range b.Data {
		if msg := checkEvent(ev); msg != "" {
			return nil, fmt.Sprintf("data[%d]: %s", i, msg)
		}
	}
	return &b, ""
}

func checkEvent(ev Event) string {
	switch {
	case ev.Event == "":
		return "event is required"
	case ev.EventTime == nil || *ev.EventTime <= 0:
		return "event_time is required"
	}
	for name, h := range map[string]Hashes{"email": ev.User.Email, "phone": ev.User.Phone, "external_id": ev.User.ExternalID} {
		for _, v := range h {
			if !hexDigest.MatchString(v) {
				return fmt.Sprintf("user.%s must be a SHA-256 digest in lower-case hex, got %q", name, v)
			}
		}
	}
	if ev.User.IP != "" && net.ParseIP(ev.User.IP) == nil {
		return fmt.Sprintf("user.ip %q is not an IP address", ev.User.IP)
	}
	if ev.Page.URL != "" {
		if u, err := url.Parse(ev.Page.URL); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Sprintf("page.url %q is not an absolute URL", ev.Page.URL)
		}
	}
	return checkProperties(ev.Properties)
}

func checkProperties(p map[string]json.RawMessage) string {
	var cur string
	if raw, ok := p["currency"]; ok {
		if json.Unmarshal(raw, &cur) != nil || !currency.MatchString(cur) {
			return "properties.currency must be an ISO 4217 code in upper case"
		}
	}
	if raw, ok := p["value"]; ok {
		var v float64
		if json.Unmarshal(raw, &v) != nil {
			return "properties.value must be a number"
		}
		if cur == "" {
			return "properties.currency is required when properties.value is set"
		}
	}
	if raw, ok := p["contents"]; ok {
		var cs []struct {
			ContentID string   `json:"content_id"`
			Quantity  *int64   `json:"quantity"`
			Price     *float64 `json:"price"`
		}
		if err := json.Unmarshal(raw, &cs); err != nil {
			return "properties.contents must be an array of {content_id, quantity, price}: " + err.Error()
		}
		for _, c := range cs {
			if c.ContentID == "" {
				return "properties.contents[].content_id is required"
			}
		}
	}
	return ""
}
