package ga4fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits GA4 enforces, as the fake checks them.
const (
	MaxBodyBytes      = 130_000
	MaxEvents         = 25
	MaxParams         = 25
	MaxNameLen        = 40
	MaxParamValueLen  = 100
	MaxUserIDLen      = 256
	MaxAge            = 72 * time.Hour
	maxFutureSkew     = 15 * time.Minute
	validationInvalid = "VALUE_INVALID"
)

// payload is the request body, decoded strictly: a field GA4 does not know
// is an error.
type payload struct {
	ClientID           string          `json:"client_id"`
	UserID             string          `json:"user_id"`
	TimestampMicros    int64           `json:"timestamp_micros"`
	NonPersonalizedAds bool            `json:"non_personalized_ads"`
	IPOverride         string          `json:"ip_override"`
	UserProperties     json.RawMessage `json:"user_properties"`
	Consent            *consent        `json:"consent"`
	UserData           *userData       `json:"user_data"`
	Events             []mpEvent       `json:"events"`
}

type consent struct {
	AdUserData        string `json:"ad_user_data"`
	AdPersonalization string `json:"ad_personalization"`
}

func (c *consent) asMap() map[string]string {
	if c == nil {
		return nil
	}
	return map[string]string{"ad_user_data": c.AdUserData, "ad_personalization": c.AdPersonalization}
}

type userData struct {
	SHA256Email []string          `json:"sha256_email_address"`
	SHA256Phone []string          `json:"sha256_phone_number"`
	Address     []json.RawMessage `json:"address"`
}

func (u *userData) asMap() map[string][]string {
	if u == nil {
		return nil
	}
	return map[string][]string{"sha256_email_address": u.SHA256Email, "sha256_phone_number": u.SHA256Phone}
}

type mpEvent struct {
	Name            string         `json:"name"`
	TimestampMicros int64          `json:"timestamp_micros"`
	Params          map[string]any `json:"params"`
}

var (
	namePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	sha256Hex   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// reserved are the event names GA4 refuses (Measurement Protocol reference
// and Analytics Help "Event naming rules", web streams).
var reserved = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`ad_activeview ad_click ad_exposure ad_impression ad_query
		ad_reward adunit_exposure app_background app_clear_data app_exception app_remove
		app_store_refund app_store_subscription_cancel app_store_subscription_convert
		app_store_subscription_renew app_update app_upgrade dynamic_link_app_open
		dynamic_link_app_update dynamic_link_first_open error first_open first_visit
		in_app_purchase notification_dismiss notification_foreground notification_open
		notification_receive os_update session_start session_start_with_rollout user_engagement
		click file_download form_start form_submit page_view scroll video_complete
		video_progress video_start view_complete view_search_results`) {
		reserved[n] = true
	}
}

var reservedPrefixes = []string{"_", "firebase_", "ga_", "google_", "gtag."}

// Validate returns what GA4 would object to in a request body, as of now.
func Validate(body []byte, now time.Time) []Message {
	if len(body) >= MaxBodyBytes {
		return []Message{{Description: fmt.Sprintf("body is %d bytes, the limit is under %d", len(body), MaxBodyBytes), ValidationCode: "VALUE_OUT_OF_BOUNDS"}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var p payload
	if err := dec.Decode(&p); err != nil {
		return []Message{{Description: "unreadable payload: " + err.Error(), ValidationCode: validationInvalid}}
	}
	v := &validator{now: now}
	v.request(p)
	for i, e := range p.Events {
		v.event(fmt.Sprintf("events[%d]", i), e)
	}
	return v.msgs
}

type validator struct {
	now  time.Time
	msgs []Message
}

func (v *validator) add(path, code, format string, args ...any) {
	v.msgs = append(v.msgs, Message{FieldPath: path, ValidationCode: code, Description: fmt.Sprintf(format, args...)})
}

func (v *validator) request(p payload) {
	if p.ClientID == "" {
		v.add("client_id", "VALUE_REQUIRED", "client_id is required")
	}
	if utf8.RuneCountInString(p.UserID) > MaxUserIDLen {
		v.add("user_id", "VALUE_OUT_OF_BOUNDS", "user_id is longer than %d characters", MaxUserIDLen)
	}
	switch n := len(p.Events); {
	case n == 0:
		v.add("events", "VALUE_REQUIRED", "events must hold at least one event")
	case n > MaxEvents:
		v.add("events", "EXCEEDED_MAX_ENTITIES", "%d events, at most %d per request", n, MaxEvents)
	}
	v.timestamp("timestamp_micros", p.TimestampMicros)
	if c := p.Consent; c != nil {
		v.consentValue("consent.ad_user_data", c.AdUserData)
		v.consentValue("consent.ad_personalization", c.AdPersonalization)
	}
	if u := p.UserData; u != nil {
		v.hashes("user_data.sha256_email_address", u.SHA256Email)
		v.hashes("user_data.sha256_phone_number", u.SHA256Phone)
	}
}

func (v *validator) timestamp(path string, micros int64) {
	if micros == 0 {
		return
	}
	t := time.UnixMicro(micros)
	if v.now.Sub(t) > MaxAge {
		v.add(path, "VALUE_OUT_OF_BOUNDS", "timestamp is more than %s in the past", MaxAge)
	}
	if t.Sub(v.now) > maxFutureSkew {
		v.add(path, "VALUE_OUT_OF_BOUNDS", "timestamp is in the future")
	}
}

func (v *validator) consentValue(path, s string) {
	if s != "" && s != "GRANTED" && s != "DENIED" {
		v.add(path, validationInvalid, "consent must be GRANTED or DENIED, not %q", s)
	}
}

func (v *validator) hashes(path string, hs []string) {
	for i, h := range hs {
		if !sha256Hex.MatchString(h) {
			v.add(fmt.Sprintf("%s[%d]", path, i), validationInvalid, "not a lowercase hex SHA-256 digest")
		}
	}
}

func (v *validator) event(path string, e mpEvent) {
	v.name(path+".name", e.Name)
	if reserved[e.Name] {
		v.add(path+".name", "NAME_RESERVED", "event name %q is reserved", e.Name)
	}
	v.timestamp(path+".timestamp_micros", e.TimestampMicros)
	if len(e.Params) > MaxParams {
		v.add(path+".params", "EXCEEDED_MAX_ENTITIES", "%d params, at most %d per event", len(e.Params), MaxParams)
	}
	for k, val := range e.Params {
		pp := path + ".params." + k
		v.name(pp, k)
		v.paramValue(pp, k, val)
	}
}

func (v *validator) name(path, n string) {
	switch {
	case n == "":
		v.add(path, "VALUE_REQUIRED", "name is required")
		return
	case utf8.RuneCountInString(n) > MaxNameLen:
		v.add(path, "VALUE_OUT_OF_BOUNDS", "name %q is longer than %d characters", n, MaxNameLen)
	case !namePattern.MatchString(n):
		v.add(path, "NAME_INVALID", "name %q must start with a letter and hold only letters, digits and _", n)
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(n, p) {
			v.add(path, "NAME_RESERVED", "name %q starts with the reserved prefix %q", n, p)
		}
	}
}

func (v *validator) paramValue(path, name string, val any) {
	switch x := val.(type) {
	case string:
		if utf8.RuneCountInString(x) > MaxParamValueLen {
			v.add(path, "VALUE_OUT_OF_BOUNDS", "value is longer than %d characters", MaxParamValueLen)
		}
		if name == "value" {
			v.add(path, validationInvalid, "value must be a number")
		}
		if name == "currency" && !regexp.MustCompile(`^[A-Z]{3}$`).MatchString(x) {
			v.add(path, validationInvalid, "currency must be an ISO 4217 code")
		}
	case float64, bool, nil:
	case []any:
		if name != "items" {
			v.add(path, validationInvalid, "only items may be an array")
		}
	default:
		v.add(path, validationInvalid, "unsupported value type %T", val)
	}
}
