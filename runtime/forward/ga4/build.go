package ga4

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
)

// payload is a Measurement Protocol request body.
type payload struct {
	ClientID string    `json:"client_id"`
	UserID   string    `json:"user_id,omitempty"`
	Consent  *consent  `json:"consent,omitempty"`
	UserData *userData `json:"user_data,omitempty"`
	Events   []mpEvent `json:"events"`
}

type consent struct {
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
}

type userData struct {
	SHA256Email []string `json:"sha256_email_address,omitempty"`
	SHA256Phone []string `json:"sha256_phone_number,omitempty"`
}

type mpEvent struct {
	Name            string         `json:"name"`
	TimestampMicros int64          `json:"timestamp_micros,omitempty"`
	Params          map[string]any `json:"params,omitempty"`
}

// engagementMsec is the engagement each event reports: see the package doc.
const engagementMsec = 1

// client is the request-level part of a payload: events share a request
// only when all of it is equal.
type client struct {
	ClientID string
	UserID   string
	Consent  consent
	Email    string
	Phone    string
}

func (c client) payload(events []mpEvent) payload {
	p := payload{ClientID: c.ClientID, UserID: c.UserID, Events: events}
	if c.Consent != (consent{}) {
		cc := c.Consent
		p.Consent = &cc
	}
	if c.Email != "" || c.Phone != "" {
		p.UserData = &userData{}
		if c.Email != "" {
			p.UserData.SHA256Email = []string{c.Email}
		}
		if c.Phone != "" {
			p.UserData.SHA256Phone = []string{c.Phone}
		}
	}
	return p
}

// build maps an item to its request-level client and its event, or returns
// why GA4 would refuse it.
func build(it forward.Item, now time.Time) (client, mpEvent, error) {
	ev := it.Event
	if err := CheckEventName(it.Name); err != nil {
		return client{}, mpEvent{}, err
	}
	c, err := clientOf(ev)
	if err != nil {
		return client{}, mpEvent{}, err
	}
	ts := ev.Timestamp
	if ts.IsZero() {
		return client{}, mpEvent{}, errors.New("event has no timestamp")
	}
	if now.Sub(ts) > MaxAge {
		return client{}, mpEvent{}, fmt.Errorf("event is older than GA4's %s back-dating limit", MaxAge)
	}
	if ts.After(now) {
		ts = now
	}
	params, err := paramsOf(it)
	if err != nil {
		return client{}, mpEvent{}, err
	}
	return c, mpEvent{Name: it.Name, TimestampMicros: ts.UnixMicro(), Params: params}, nil
}

func clientOf(ev event.Event) (client, error) {
	c := client{ClientID: ClientID(ev.GAClientID), UserID: ev.UserID}
	if c.ClientID == "" {
		c.ClientID = ev.VisitorID
	}
	switch {
	case c.ClientID == "":
		return client{}, errors.New("event has neither a GA client id nor a visitor id")
	case utf8.RuneCountInString(c.UserID) > MaxUserIDLen:
		return client{}, fmt.Errorf("user_id is longer than %d characters", MaxUserIDLen)
	}
	c.Consent = consent{
		AdUserData:        consentValue(ev.Consent.AdUserData),
		AdPersonalization: consentValue(ev.Consent.AdPersonalization),
	}
	if c.Consent.AdUserData == "DENIED" {
		// The visitor refused their data being used for ads: keep it home.
		return c, nil
	}
	if e := ev.User.GoogleEmail(); enrich.IsSHA256Hex(e) {
		c.Email = strings.ToLower(e)
	}
	if p := ev.User.PhoneE164SHA256; enrich.IsSHA256Hex(p) {
		c.Phone = strings.ToLower(p)
	}
	return c, nil
}

// ClientID returns the client id of a _ga cookie value: "GA1.1.123.456"
// yields "123.456"; a value that already is an id is returned as it is.
func ClientID(v string) string {
	v = strings.TrimSpace(v)
	parts := strings.Split(v, ".")
	if len(parts) == 4 && strings.HasPrefix(strings.ToUpper(parts[0]), "GA") {
		return parts[2] + "." + parts[3]
	}
	return v
}

func consentValue(v string) string {
	switch v {
	case event.Granted:
		return "GRANTED"
	case event.Denied:
		return "DENIED"
	}
	return ""
}

func paramsOf(it forward.Item) (map[string]any, error) {
	ev := it.Event
	p := map[string]any{"engagement_time_msec": engagementMsec}
	if ev.SessionID != "" {
		p["session_id"] = SessionID(ev.SessionID)
	}
	if cur := strings.ToUpper(strings.TrimSpace(ev.Currency)); ev.Value != nil && isCurrency(cur) {
		p["value"] = *ev.Value
		p["currency"] = cur
	}
	order := ev.OrderID
	if order == "" && it.Original != nil {
		order = it.Original.OrderID
	}
	if order != "" {
		p["transaction_id"] = order
	}
	if u := shortURL(ev.URL); u != "" {
		p["page_location"] = u
	}
	if r := shortURL(ev.Referrer); r != "" {
		p["page_referrer"] = r
	}
	return p, checkParams(p)
}

func checkParams(p map[string]any) error {
	if len(p) > MaxParamsPerEvent {
		return fmt.Errorf("event has %d params, GA4 takes at most %d", len(p), MaxParamsPerEvent)
	}
	for k, v := range p {
		if err := CheckParamName(k); err != nil {
			return err
		}
		if s, ok := v.(string); ok && utf8.RuneCountInString(s) > MaxParamValueLen {
			return fmt.Errorf("param %s is longer than %d characters", k, MaxParamValueLen)
		}
	}
	return nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// SessionID maps a trackstack session id to the number-like string GA4
// wants: digits pass through, anything else becomes the decimal form of the
// first 63 bits of its SHA-256.
func SessionID(s string) string {
	if len(s) <= 19 && allDigits(s) {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return s
		}
	}
	sum := sha256.Sum256([]byte(s))
	return strconv.FormatUint(binary.BigEndian.Uint64(sum[:8])>>1, 10)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// shortURL keeps a URL within GA4's param value limit: the query and
// fragment go first, then the tail.
func shortURL(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= MaxParamValueLen {
		return s
	}
	if u, err := url.Parse(s); err == nil {
		u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
		s = u.String()
	}
	if utf8.RuneCountInString(s) <= MaxParamValueLen {
		return s
	}
	return string([]rune(s)[:MaxParamValueLen])
}
