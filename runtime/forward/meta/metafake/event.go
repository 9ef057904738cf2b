package metafake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/forward/internal/jsonscan"
)

// Event is a server event as Meta defines it (unknown fields are refused
// when decoding).
type Event struct {
	EventName                    string          `json:"event_name"`
	EventTime                    *int64          `json:"event_time"`
	EventID                      string          `json:"event_id"`
	EventSourceURL               string          `json:"event_source_url"`
	ActionSource                 string          `json:"action_source"`
	OptOut                       bool            `json:"opt_out"`
	ReferrerURL                  string          `json:"referrer_url"`
	UserData                     *UserData       `json:"user_data"`
	CustomData                   CustomData      `json:"custom_data"`
	DataProcessingOptions        []string        `json:"data_processing_options"`
	DataProcessingOptionsCountry *int            `json:"data_processing_options_country"`
	DataProcessingOptionsState   *int            `json:"data_processing_options_state"`
	AppData                      json.RawMessage `json:"app_data"`
	OriginalEventData            json.RawMessage `json:"original_event_data"`
	AttributionData              json.RawMessage `json:"attribution_data"`
	MessagingChannel             string          `json:"messaging_channel"`
	CustomerSegmentation         json.RawMessage `json:"customer_segmentation"`
}

// UserData is Meta's customer information. Hashed fields take one digest
// or a list of them.
type UserData struct {
	Email           Hashes `json:"em"`
	Phone           Hashes `json:"ph"`
	FirstName       Hashes `json:"fn"`
	LastName        Hashes `json:"ln"`
	Gender          Hashes `json:"ge"`
	DateOfBirth     Hashes `json:"db"`
	City            Hashes `json:"ct"`
	State           Hashes `json:"st"`
	Zip             Hashes `json:"zp"`
	Country         Hashes `json:"country"`
	ExternalID      Hashes `json:"external_id"`
	ClientIPAddress string `json:"client_ip_address"`
	ClientUserAgent string `json:"client_user_agent"`
	FBC             string `json:"fbc"`
	FBP             string `json:"fbp"`
	SubscriptionID  string `json:"subscription_id"`
	FBLoginID       string `json:"fb_login_id"`
	LeadID          string `json:"lead_id"`
	AnonID          string `json:"anon_id"`
	MadID           string `json:"madid"`
	PageID          string `json:"page_id"`
	CTWAClid        string `json:"ctwa_clid"`
}

// CustomData keeps every field: Meta accepts custom properties here.
type CustomData map[string]json.RawMessage

// Hashes is a hashed field: Meta takes a string or an array of strings.
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

// isHexDigest reports whether s is 64 lower-case hex digits, a SHA-256
// digest as Meta takes it.
func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isFBCookie reports whether s has the form of _fbc and _fbp:
// fb.{subdomain index}.{creation time in ms, ten digits or more}.{value},
// the value without white space.
func isFBCookie(s string) bool {
	rest, ok := strings.CutPrefix(s, "fb.")
	if !ok {
		return false
	}
	index, rest, _ := strings.Cut(rest, ".")
	created, value, _ := strings.Cut(rest, ".")
	return allDigits(index) && len(created) >= 10 && allDigits(created) &&
		value != "" && !strings.ContainsAny(value, "\t\n\f\r ")
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isCurrencyCode reports whether s is three ASCII letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range len(s) {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

var actionSources = map[string]bool{
	"email": true, "website": true, "app": true, "phone_call": true, "chat": true,
	"physical_store": true, "system_generated": true, "business_messaging": true, "other": true,
}

// validate checks every event; the first problem fails the whole request,
// as at Meta.
func validate(events []Event, now time.Time) *apiError {
	if len(events) == 0 || len(events) > MaxEvents {
		e := invalidParameter(fmt.Sprintf("data must hold 1 to %d events, not %d", MaxEvents, len(events)))
		return &e
	}
	for i, ev := range events {
		if msg := checkEvent(ev, now); msg != "" {
			e := invalidParameter(fmt.Sprintf("data[%d]: %s", i, msg))
			if ev.EventTime != nil && now.Sub(time.Unix(*ev.EventTime, 0)) > MaxAge {
				e.ErrorSubcode, e.UserTitle = 2804003, "Event Timestamp Too Old"
			}
			return &e
		}
	}
	return nil
}

func checkEvent(ev Event, now time.Time) string {
	switch {
	case ev.EventName == "":
		return "event_name is required"
	case ev.EventTime == nil:
		return "event_time is required"
	case now.Sub(time.Unix(*ev.EventTime, 0)) > MaxAge:
		return "The timestamp for this event is more than 7 days in the past. Events must be sent within 7 days of when they occurred"
	case time.Unix(*ev.EventTime, 0).Sub(now) > maxFuture:
		return "event_time is in the future"
	case !actionSources[ev.ActionSource]:
		return fmt.Sprintf("action_source %q is not a valid action source", ev.ActionSource)
	case ev.UserData == nil:
		return "user_data is required"
	}
	if ev.ActionSource == "website" {
		if ev.EventSourceURL == "" {
			return "event_source_url is required for website events"
		}
		if ev.UserData.ClientUserAgent == "" {
			return "user_data.client_user_agent is required for website events"
		}
	}
	if msg := checkUserData(*ev.UserData); msg != "" {
		return msg
	}
	return checkCustomData(ev.EventName, ev.CustomData)
}

func checkUserData(u UserData) string {
	for _, h := range [...]struct {
		name   string
		hashes Hashes
	}{
		{"em", u.Email}, {"ph", u.Phone}, {"fn", u.FirstName}, {"ln", u.LastName}, {"ge", u.Gender}, {"db", u.DateOfBirth},
		{"ct", u.City}, {"st", u.State}, {"zp", u.Zip}, {"country", u.Country}, {"external_id", u.ExternalID},
	} {
		for _, v := range h.hashes {
			if !isHexDigest(v) {
				return fmt.Sprintf("user_data.%s must be a SHA-256 digest in lower-case hex, got %q", h.name, v)
			}
		}
	}
	if u.FBC != "" && !isFBCookie(u.FBC) {
		return fmt.Sprintf("user_data.fbc %q is not in the format fb.1.{creation time}.{fbclid}", u.FBC)
	}
	if u.FBP != "" && !isFBCookie(u.FBP) {
		return fmt.Sprintf("user_data.fbp %q is not in the format fb.1.{creation time}.{random}", u.FBP)
	}
	return ""
}

func checkCustomData(name string, cd CustomData) string {
	var value *float64
	if raw, ok := cd["value"]; ok {
		var v float64
		if !unmarshalFloat(raw, &v) {
			return "custom_data.value must be a number"
		}
		value = &v
	}
	var cur string
	if raw, ok := cd["currency"]; ok {
		if !unmarshalString(raw, &cur) || !isCurrencyCode(cur) {
			return "custom_data.currency must be an ISO 4217 code"
		}
	}
	if raw, ok := cd["content_ids"]; ok {
		var ids []string
		if json.Unmarshal(raw, &ids) != nil {
			return "custom_data.content_ids must be an array of strings"
		}
	}
	if raw, ok := cd["contents"]; ok {
		var cs []struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &cs) != nil {
			return "custom_data.contents must be an array of objects with an id"
		}
		for _, c := range cs {
			if c.ID == "" {
				return "custom_data.contents[].id is required"
			}
		}
	}
	if name == "Purchase" && (value == nil || cur == "") {
		return "custom_data.value and custom_data.currency are required for Purchase events"
	}
	return ""
}

// unmarshalFloat is json.Unmarshal into a float64, reading a plain JSON
// number directly as encoding/json would.
func unmarshalFloat(raw json.RawMessage, v *float64) bool {
	r := reader{Reader: jsonscan.Reader{Data: raw}}
	if r.number() && r.Pos == len(raw) {
		f, err := strconv.ParseFloat(string(raw), 64)
		if err == nil {
			*v = f
			return true
		}
	}
	return json.Unmarshal(raw, v) == nil
}

// unmarshalString is json.Unmarshal into a string, taking a string
// without escapes or non-ASCII bytes directly.
func unmarshalString(raw json.RawMessage, s *string) bool {
	r := reader{Reader: jsonscan.Reader{Data: raw}}
	if b, ok := r.PlainString(); ok && r.Pos == len(raw) {
		*s = intern(b)
		return true
	}
	return json.Unmarshal(raw, s) == nil
}
