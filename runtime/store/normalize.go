package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trackstack/trackstack/runtime/event"
)

// ErrInvalidEvent is wrapped by the errors Normalize returns.
var ErrInvalidEvent = errors.New("invalid event")

// Normalize returns e as every store keeps it, or why it cannot be stored.
//
// Site, EventID and ReceivedAt are required and Properties, when present,
// must be JSON. Text is made storable rather than rejected, because one odd
// byte must not fail a batch that merges many clients' events: invalid UTF-8
// and NUL characters (which PostgreSQL text cannot hold) become U+FFFD, also
// inside Properties. Times are kept in UTC at microsecond precision (what
// PostgreSQL keeps). Properties `null` and an empty ClickIDs map are dropped.
func Normalize(e event.Event) (event.Event, error) {
	if e.Site == "" {
		return e, fmt.Errorf("%w: site is empty", ErrInvalidEvent)
	}
	if e.EventID == "" {
		return e, fmt.Errorf("%w: event_id is empty (site %q)", ErrInvalidEvent, e.Site)
	}
	if e.ReceivedAt.IsZero() {
		return e, fmt.Errorf("%w: received_at is not set (event %q)", ErrInvalidEvent, e.EventID)
	}
	if v := e.Value; v != nil && (math.IsNaN(*v) || math.Abs(*v) > event.MaxAbsValue) {
		return e, fmt.Errorf("%w: value %g of event %q is beyond ±%g", ErrInvalidEvent, *v, e.EventID, event.MaxAbsValue)
	}
	e.ReceivedAt = e.ReceivedAt.UTC().Truncate(time.Microsecond)
	e.Timestamp = e.Timestamp.UTC().Truncate(time.Microsecond)

	for _, p := range []*string{
		&e.Site, &e.EventID, (*string)(&e.Type), &e.Name, (*string)(&e.Source),
		&e.VisitorID, &e.SessionID, &e.UserID, &e.URL, &e.Referrer,
		&e.UTM.Source, &e.UTM.Medium, &e.UTM.Campaign, &e.UTM.Term, &e.UTM.Content,
		&e.Channel, &e.Currency, &e.OrderID,
		&e.Consent.AdStorage, &e.Consent.AnalyticsStorage, &e.Consent.AdUserData, &e.Consent.AdPersonalization,
		&e.Device.Browser, &e.Device.OS, &e.Device.Type,
		&e.IP, &e.UserAgent, &e.Screen, &e.Language, &e.FBP, &e.FBC, &e.GAClientID,
		&e.User.EmailSHA256, &e.User.PhoneSHA256, &e.User.FirstNameSHA256, &e.User.LastNameSHA256,
		&e.User.CitySHA256, &e.User.ZipSHA256, &e.User.CountrySHA256,
	} {
		*p = cleanText(*p)
	}

	if len(e.ClickIDs) == 0 {
		e.ClickIDs = nil
	} else if !cleanMap(e.ClickIDs) {
		m := make(map[string]string, len(e.ClickIDs))
		for k, v := range e.ClickIDs {
			m[cleanText(k)] = cleanText(v)
		}
		e.ClickIDs = m
	}

	p := bytes.TrimSpace(e.Properties)
	switch {
	case len(p) == 0 || string(p) == "null":
		e.Properties = nil
	default:
		if !utf8.Valid(p) {
			p = bytes.ToValidUTF8(p, []byte("\uFFFD"))
		}
		if !json.Valid(p) {
			return e, fmt.Errorf("%w: properties are not valid JSON (event %q)", ErrInvalidEvent, e.EventID)
		}
		if needsReencode(p) {
			var err error
			if p, err = replaceJSONNul(p); err != nil {
				return e, fmt.Errorf("%w: while cleaning properties of event %q: %w", ErrInvalidEvent, e.EventID, err)
			}
		}
		e.Properties = p
	}
	return e, nil
}

func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func cleanMap(m map[string]string) bool {
	for k, v := range m {
		if cleanText(k) != k || cleanText(v) != v {
			return false
		}
	}
	return true
}

// needsReencode reports whether p has escapes PostgreSQL's jsonb rejects:
// NUL, and UTF-16 surrogates (jsonb rejects a lone one; a valid pair is
// re-encoded harmlessly as UTF-8).
func needsReencode(p []byte) bool {
	for {
		i := bytes.Index(p, []byte(`\u`))
		if i < 0 || i+6 > len(p) {
			return false
		}
		h := p[i+2 : i+6]
		if string(h) == "0000" || (h[0] == 'd' || h[0] == 'D') && strings.IndexByte("89abcdefABCDEF", h[1]) >= 0 {
			return true
		}
		p = p[i+2:]
	}
}

// replaceJSONNul rewrites JSON so that jsonb takes it: NUL in strings
// becomes U+FFFD, as do lone surrogates (Go's decoder does that).
func replaceJSONNul(p []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return cleanText(x)
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, val := range x {
				out[cleanText(k)] = walk(val)
			}
			return out
		}
		return v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(walk(v)); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}
