package googleadsfake

import (
	"errors"
	"fmt"
	"time"

	datamanager "google.golang.org/api/datamanager/v1"
)

// Data Manager API limits.
const (
	maxEvents          = 2000
	maxUserIdentifiers = 10
)

// The formats below are checked byte by byte rather than with regular
// expressions: they run for every event of every request.

// isHexDigest reports whether s is a SHA-256 digest in hex, either case.
func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isAdsAccountID reports whether s is a 10-digit Google Ads customer id.
func isAdsAccountID(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isCurrencyCode reports whether s has the form of an ISO 4217 code.
func isCurrencyCode(s string) bool {
	return len(s) == 3 && isUpper(s[0]) && isUpper(s[1]) && isUpper(s[2])
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

var (
	accountTypes  = map[string]bool{"GOOGLE_ADS": true, "DISPLAY_VIDEO_ADVERTISER": true, "DISPLAY_VIDEO_PARTNER": true, "DATA_PARTNER": true, "GOOGLE_ANALYTICS_PROPERTY": true}
	consentValues = map[string]bool{"": true, "CONSENT_STATUS_UNSPECIFIED": true, "CONSENT_GRANTED": true, "CONSENT_DENIED": true}
	eventSources  = map[string]bool{"": true, "EVENT_SOURCE_UNSPECIFIED": true, "WEB": true, "APP": true, "IN_STORE": true, "PHONE": true, "OTHER": true}
	encodings     = map[string]bool{"HEX": true, "BASE64": true}
)

// Validate checks what the request's structs cannot express and the Data
// Manager API enforces for Google Ads conversions: 1 to 2000 events, at
// least one destination naming an account and a conversion action, at most
// one ad identifier kind per event, an RFC 3339 eventTimestamp with its
// zone, a click id or a user identifier on each event, hashed identifiers
// as 64 hex digits declared by encoding HEX, conversionValue of 0 or more.
// The message names the field, as Google's does.
func Validate(req *datamanager.IngestEventsRequest) error {
	if n := len(req.Events); n < 1 || n > maxEvents {
		return fmt.Errorf("events: %d events; a request takes 1 to %d", n, maxEvents)
	}
	if err := validateDestinations(req.Destinations); err != nil {
		return err
	}
	if err := validateConsent("consent", req.Consent); err != nil {
		return err
	}
	if req.Encoding != "" && !encodings[req.Encoding] {
		return fmt.Errorf("encoding: %q is not HEX or BASE64", req.Encoding)
	}
	for i, e := range req.Events {
		if err := validateEvent(e, req.Encoding); err != nil {
			return fmt.Errorf("events[%d].%w", i, err)
		}
	}
	return nil
}

func validateDestinations(ds []*datamanager.Destination) error {
	if len(ds) == 0 {
		return errors.New("destinations: at least one destination is required")
	}
	for i, d := range ds {
		switch {
		case d == nil || d.OperatingAccount == nil:
			return fmt.Errorf("destinations[%d].operatingAccount is required", i)
		case d.ProductDestinationId == "":
			return fmt.Errorf("destinations[%d].productDestinationId is required (the conversion action id)", i)
		}
		if err := validateAccount(fmt.Sprintf("destinations[%d].operatingAccount", i), d.OperatingAccount); err != nil {
			return err
		}
		if d.LoginAccount != nil {
			if err := validateAccount(fmt.Sprintf("destinations[%d].loginAccount", i), d.LoginAccount); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateAccount(field string, a *datamanager.ProductAccount) error {
	switch {
	case !accountTypes[a.AccountType]:
		return fmt.Errorf("%s.accountType: %q is not a known account type", field, a.AccountType)
	case a.AccountId == "":
		return fmt.Errorf("%s.accountId is required", field)
	case a.AccountType == "GOOGLE_ADS" && !isAdsAccountID(a.AccountId):
		return fmt.Errorf("%s.accountId: %q is not a 10-digit Google Ads customer id", field, a.AccountId)
	}
	return nil
}

func validateEvent(e *datamanager.Event, encoding string) error {
	if e == nil {
		return errors.New("event is empty")
	}
	if e.EventTimestamp == "" {
		return errors.New("eventTimestamp is required")
	}
	if _, err := time.Parse(time.RFC3339Nano, e.EventTimestamp); err != nil {
		return fmt.Errorf("eventTimestamp: %q is not an RFC 3339 timestamp with a time zone", e.EventTimestamp)
	}
	if e.ConversionValue < 0 {
		return fmt.Errorf("conversionValue: %v is negative", e.ConversionValue)
	}
	if e.Currency != "" && !isCurrencyCode(e.Currency) {
		return fmt.Errorf("currency: %q is not an ISO 4217 code", e.Currency)
	}
	if !eventSources[e.EventSource] {
		return fmt.Errorf("eventSource: %q is not a known event source", e.EventSource)
	}
	if err := validateConsent("consent", e.Consent); err != nil {
		return err
	}
	kinds, err := validateAdIdentifiers(e.AdIdentifiers)
	if err != nil {
		return err
	}
	ids, err := validateUserData(e.UserData, encoding)
	if err != nil {
		return err
	}
	if kinds == 0 && ids == 0 {
		return errors.New("adIdentifiers: an event needs a gclid, gbraid or wbraid, or user identifiers in userData")
	}
	return nil
}

// validateAdIdentifiers allows one click identifier kind per event and
// returns how many were set.
func validateAdIdentifiers(a *datamanager.AdIdentifiers) (int, error) {
	if a == nil {
		return 0, nil
	}
	n := 0
	for _, id := range []string{a.Gclid, a.Gbraid, a.Wbraid} {
		if id != "" {
			n++
		}
	}
	if n > 1 {
		return n, errors.New("adIdentifiers: set only one of gclid, gbraid and wbraid")
	}
	return n, nil
}

func validateUserData(u *datamanager.UserData, encoding string) (int, error) {
	if u == nil {
		return 0, nil
	}
	if len(u.UserIdentifiers) > maxUserIdentifiers {
		return 0, fmt.Errorf("userData.userIdentifiers: %d identifiers; at most %d", len(u.UserIdentifiers), maxUserIdentifiers)
	}
	for i, id := range u.UserIdentifiers {
		if err := validateIdentifier(id, encoding); err != nil {
			return 0, fmt.Errorf("userData.userIdentifiers[%d].%w", i, err)
		}
	}
	return len(u.UserIdentifiers), nil
}

// validateIdentifier wants exactly one of emailAddress, phoneNumber and
// address, and hashed values in the declared encoding.
func validateIdentifier(id *datamanager.UserIdentifier, encoding string) error {
	if id == nil {
		return errors.New("identifier is empty")
	}
	set := 0
	for _, ok := range []bool{id.EmailAddress != "", id.PhoneNumber != "", id.Address != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("identifier: set exactly one of emailAddress, phoneNumber and address (%d set)", set)
	}
	field, v := "emailAddress", id.EmailAddress
	if id.PhoneNumber != "" {
		field, v = "phoneNumber", id.PhoneNumber
	}
	switch {
	case v == "": // an address
	case encoding == "":
		return fmt.Errorf("%s: hashed identifiers need the request's encoding (HEX or BASE64)", field)
	case encoding == "HEX" && !isHexDigest(v):
		return fmt.Errorf("%s: not a hex-encoded SHA-256 digest", field)
	}
	return nil
}

func validateConsent(field string, c *datamanager.Consent) error {
	if c == nil {
		return nil
	}
	if !consentValues[c.AdUserData] {
		return fmt.Errorf("%s.adUserData: %q is not a consent status", field, c.AdUserData)
	}
	if !consentValues[c.AdPersonalization] {
		return fmt.Errorf("%s.adPersonalization: %q is not a consent status", field, c.AdPersonalization)
	}
	return nil
}
