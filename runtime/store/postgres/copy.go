package postgres

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// The events are sent with COPY in PostgreSQL's binary format, encoded here
// into one reused buffer rather than through pgx's per-value encoders: that
// boxes every field into an interface and costs about as much CPU per event
// as the server's own work. The format is documented with the COPY command
// ("Binary Format"); each value's encoding is its type's send function:
// text is its UTF-8 bytes, timestamptz microseconds since 2000-01-01 UTC,
// float8 IEEE 754 bits, jsonb a version byte (1) and the JSON text.

// copyColumns are the events columns COPY fills, in appendRow order; seq
// and txid are left to their defaults.
const copyColumns = `site, received_at, event_id, type, name, source, occurred_at,
    visitor_id, session_id, user_id, url, referrer,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel,
    click_ids, value, currency, order_id,
    consent_ad_storage, consent_analytics_storage, consent_ad_user_data, consent_ad_personalization,
    device_browser, device_os, device_type,
    ip, user_agent, screen, language, fbp, fbc, ga_client_id,
    user_data, properties, ip_sealed`

const copyColumnCount = 39

const copyEvents = "COPY events (" + copyColumns + ") FROM STDIN (FORMAT binary)"

// pgEpoch is the zero of PostgreSQL timestamps.
var pgEpochMicros = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// appendCopyHeader starts a binary COPY stream: signature, flags, no
// header extension.
func appendCopyHeader(b []byte) []byte {
	b = append(b, "PGCOPY\n\xff\r\n\x00"...)
	return binary.BigEndian.AppendUint64(b, 0)
}

// appendCopyTrailer ends a binary COPY stream.
func appendCopyTrailer(b []byte) []byte { return binary.BigEndian.AppendUint16(b, 0xffff) }

// appendRow encodes one normalized event as a COPY tuple of copyColumns.
func appendRow(b []byte, e *event.Event) []byte {
	b = binary.BigEndian.AppendUint16(b, copyColumnCount)
	b = appendText(b, e.Site)
	b = appendTime(b, e.ReceivedAt)
	b = appendText(b, e.EventID)
	b = appendText(b, string(e.Type))
	b = appendText(b, e.Name)
	b = appendText(b, string(e.Source))
	b = appendTime(b, e.Timestamp)
	for _, s := range [...]string{
		e.VisitorID, e.SessionID, e.UserID, e.URL, e.Referrer,
		e.UTM.Source, e.UTM.Medium, e.UTM.Campaign, e.UTM.Term, e.UTM.Content, e.Channel,
	} {
		b = appendNullText(b, s)
	}
	b = appendClickIDs(b, e.ClickIDs)
	if e.Value == nil {
		b = appendNull(b)
	} else {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(*e.Value))
	}
	for _, s := range [...]string{
		e.Currency, e.OrderID,
		e.Consent.AdStorage, e.Consent.AnalyticsStorage, e.Consent.AdUserData, e.Consent.AdPersonalization,
		e.Device.Browser, e.Device.OS, e.Device.Type,
		e.IP, e.UserAgent, e.Screen, e.Language, e.FBP, e.FBC, e.GAClientID,
	} {
		b = appendNullText(b, s)
	}
	b = appendUser(b, &e.User)
	if len(e.Properties) == 0 {
		b = appendNull(b)
	} else {
		b = binary.BigEndian.AppendUint32(b, uint32(len(e.Properties)+1))
		b = append(b, 1)
		b = append(b, e.Properties...)
	}
	if len(e.RawIPSealed) == 0 {
		return appendNull(b)
	}
	// bytea's binary form is its bytes.
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.RawIPSealed)))
	return append(b, e.RawIPSealed...)
}

func appendNull(b []byte) []byte { return binary.BigEndian.AppendUint32(b, 0xffffffff) }

func appendText(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// appendNullText stores an empty string as NULL: absent fields cost no
// bytes, and the dashboard's GROUP BYs read "not set" as NULL.
func appendNullText(b []byte, s string) []byte {
	if s == "" {
		return appendNull(b)
	}
	return appendText(b, s)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixMicro()-pgEpochMicros))
}

// jsonbStart reserves a jsonb value's length and writes its version byte;
// jsonbEnd fills in the length.
func jsonbStart(b []byte) ([]byte, int) {
	at := len(b)
	b = binary.BigEndian.AppendUint32(b, 0)
	return append(b, 1, '{'), at
}

func jsonbEnd(b []byte, at int) []byte {
	b = append(b, '}')
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

func appendClickIDs(b []byte, ids map[string]string) []byte {
	if len(ids) == 0 {
		return appendNull(b)
	}
	b, at := jsonbStart(b)
	first := true
	for k, v := range ids {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, v)
	}
	return jsonbEnd(b, at)
}

// appendUser writes the matching data as JSON with event.User's field
// names, so that it decodes back into event.User.
func appendUser(b []byte, u *event.User) []byte {
	if u.Empty() {
		return appendNull(b)
	}
	b, at := jsonbStart(b)
	first := true
	for _, f := range [...]struct{ k, v string }{
		{"em", u.EmailSHA256}, {"ph", u.PhoneSHA256}, {"fn", u.FirstNameSHA256}, {"ln", u.LastNameSHA256},
		{"ct", u.CitySHA256}, {"zp", u.ZipSHA256}, {"country", u.CountrySHA256},
		{"em_google", u.EmailGoogleSHA256}, {"ph_e164", u.PhoneE164SHA256},
	} {
		if f.v == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, f.k...)
		b = append(b, '"', ':')
		b = appendJSONString(b, f.v)
	}
	return jsonbEnd(b, at)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as a JSON string. s is valid UTF-8 without NUL
// (store.Normalize), so only quotes, backslashes and control characters
// need escaping.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
