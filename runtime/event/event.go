// Package event is the event model shared by the collector, the store, the
// forwarders and the dashboard.
package event

import (
	"encoding/json"
	"time"
)

// MaxAbsValue bounds an event's value either way. A trillion covers any
// single order in any currency, and sums of millions of such values stay
// exact to the cent in a float64 and in range for every SQL aggregate; one
// event of 1.7e308 would otherwise make every revenue sum fail or read Inf.
const MaxAbsValue = 1e12

// Type is the kind of an event.
type Type string

// Event types.
const (
	TypePageview   Type = "pageview"
	TypeClick      Type = "click"
	TypeFormSubmit Type = "form_submit"
	TypeConversion Type = "conversion"
	TypeCustom     Type = "custom"
	TypeIdentify   Type = "identify"
)

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	switch t {
	case TypePageview, TypeClick, TypeFormSubmit, TypeConversion, TypeCustom, TypeIdentify:
		return true
	}
	return false
}

// Source says where an event came from.
type Source string

// Event sources.
const (
	SourceBrowser Source = "browser"
	SourceServer  Source = "server"
)

// ClickIDKeys are the ad click ids the tracker reads from landing URLs, in a stable order.
var ClickIDKeys = []string{"gclid", "gbraid", "wbraid", "fbclid", "ttclid", "msclkid", "epik", "li_fat_id", "twclid"}

// Channels an event can be attributed to.
const (
	ChannelPaidSearch    = "paid_search"
	ChannelPaidSocial    = "paid_social"
	ChannelOrganicSearch = "organic_search"
	ChannelOrganicSocial = "organic_social"
	ChannelEmail         = "email"
	ChannelReferral      = "referral"
	ChannelDirect        = "direct"
)

// UTM holds the campaign parameters of the landing URL.
type UTM struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Term     string `json:"term,omitempty"`
	Content  string `json:"content,omitempty"`
}

// Consent is the visitor's consent state, in Google Consent Mode v2 names.
// Each value is "granted", "denied" or empty (not signalled).
type Consent struct {
	AdStorage         string `json:"ad_storage,omitempty"`
	AnalyticsStorage  string `json:"analytics_storage,omitempty"`
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
}

// Consent values.
const (
	Granted = "granted"
	Denied  = "denied"
)

// Purpose returns the value for a Consent Mode purpose name.
func (c Consent) Purpose(name string) string {
	switch name {
	case "ad_storage":
		return c.AdStorage
	case "analytics_storage":
		return c.AnalyticsStorage
	case "ad_user_data":
		return c.AdUserData
	case "ad_personalization":
		return c.AdPersonalization
	}
	return ""
}

// User is the matching data of an event: what platforms use to match a
// conversion to an ad click. Email, phone and names are stored SHA-256 hashed
// (normalized first); this is personal data and retention deletes it.
type User struct {
	EmailSHA256     string `json:"em,omitempty"`
	PhoneSHA256     string `json:"ph,omitempty"`
	FirstNameSHA256 string `json:"fn,omitempty"`
	LastNameSHA256  string `json:"ln,omitempty"`
	CitySHA256      string `json:"ct,omitempty"`
	ZipSHA256       string `json:"zp,omitempty"`
	CountrySHA256   string `json:"country,omitempty"`

	// EmailGoogleSHA256 is the email hashed after Google's normalization
	// (gmail.com and googlemail.com lose the dots and the +tag of the local
	// part), kept only when it differs from EmailSHA256.
	EmailGoogleSHA256 string `json:"em_google,omitempty"`
	// PhoneE164SHA256 is the phone hashed in E.164 with "+" (Google,
	// TikTok), where PhoneSHA256 has Meta's digits without "+".
	PhoneE164SHA256 string `json:"ph_e164,omitempty"`
}

// GoogleEmail is the email digest for Google: its own normalization when it
// differs, else the common one.
func (u User) GoogleEmail() string {
	if u.EmailGoogleSHA256 != "" {
		return u.EmailGoogleSHA256
	}
	return u.EmailSHA256
}

// Empty reports whether no matching data is present.
func (u User) Empty() bool { return u == User{} }

// Device is what the user agent says about the visitor's device.
type Device struct {
	Browser string `json:"browser,omitempty"`
	OS      string `json:"os,omitempty"`
	Type    string `json:"type,omitempty"` // desktop, mobile, tablet, bot, other
}

// Event is one recorded event.
type Event struct {
	Site      string    `json:"site"`
	EventID   string    `json:"event_id"`
	Type      Type      `json:"type"`
	Name      string    `json:"name"`
	Source    Source    `json:"source"`
	Timestamp time.Time `json:"timestamp"`
	// ReceivedAt is when the collector accepted the event.
	ReceivedAt time.Time `json:"received_at"`

	VisitorID string `json:"visitor_id,omitempty"`
	SessionID string `json:"session_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`

	URL      string            `json:"url,omitempty"`
	Referrer string            `json:"referrer,omitempty"`
	UTM      UTM               `json:"utm"`
	ClickIDs map[string]string `json:"click_ids"`
	Channel  string            `json:"channel,omitempty"`

	// Value is the event's amount (revenue), at most MaxAbsValue either way.
	Value    *float64 `json:"value,omitempty"`
	Currency string   `json:"currency,omitempty"`
	OrderID  string   `json:"order_id,omitempty"`

	Consent Consent `json:"consent"`
	Device  Device  `json:"device"`
	// IP is the address as stored, after the site's anonymization.
	IP string `json:"ip,omitempty"`
	// RawIP is the client address before anonymization. It lives only in
	// memory (never serialized, never stored) so an in-process consumer can
	// use it for matching while the stored IP stays anonymized.
	RawIP string `json:"-"`
	// RawIPSealed is RawIP encrypted (AES-256-GCM with the site's key,
	// package sealing) for the destinations that match on it. The store
	// keeps it only until every such destination has delivered the event.
	RawIPSealed []byte `json:"-"`
	UserAgent   string `json:"user_agent,omitempty"`
	Screen      string `json:"screen,omitempty"`
	Language    string `json:"language,omitempty"`

	// Cookies the page had: Meta's _fbp and _fbc, Google's client id.
	FBP        string `json:"fbp,omitempty"`
	FBC        string `json:"fbc,omitempty"`
	GAClientID string `json:"ga_client_id,omitempty"`

	User       User            `json:"user"`
	Properties json.RawMessage `json:"properties,omitempty"`
}
