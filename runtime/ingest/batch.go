package ingest

import (
	"math"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
)

// Limits of the wire protocol (docs/tracker-protocol.md).
const (
	// MaxBrowserBody is the largest browser batch body (64 KiB).
	MaxBrowserBody = 64 << 10
	// MaxServerBody is the largest /v1/events body. The browser's 64 KiB fits
	// about 60 server events with user data, not the 500 a batch may hold,
	// so the server API takes up to 1 MiB (about 2 KiB per event).
	MaxServerBody = 1 << 20
	// MaxBrowserEvents is the most events in one browser batch.
	MaxBrowserEvents = 50
	// MaxServerEvents is the most events in one /v1/events batch.
	MaxServerEvents = 500
	// MaxEventAge is how old an event may be when it arrives.
	MaxEventAge = 72 * time.Hour
	// MaxClockSkew is how far in the future an event may be.
	MaxClockSkew = 5 * time.Minute

	maxBrowserProps = 4 << 10
	maxServerProps  = 16 << 10
	maxURLLen       = 2048 // URLs and referrers are truncated, not rejected
	maxUTMLen       = 256
	maxClickIDLen   = 512
	maxCookieLen    = 256
	maxShortLen     = 32 // screen, lang
	maxIDLen        = 128
	maxUserIDLen    = 256
	maxNameLen      = 128
	maxUALen        = 1024
)

// Rejection reasons: the `reason` of a rejected event in a response and the
// reason label of trackstack_ingest_events_rejected_total. A fixed set, so
// the metric's cardinality stays bounded.
const (
	// ReasonInvalid: a field fails validation; the detail says which.
	ReasonInvalid = "invalid"
	// ReasonTooOld: the event is more than MaxEventAge old.
	ReasonTooOld = "too_old"
	// ReasonInFuture: the event is more than MaxClockSkew in the future.
	ReasonInFuture = "in_future"
	// ReasonBot: dropped by bot filtering. Never shown in a response (bots
	// are told their events were accepted); counted in the metric only.
	ReasonBot = "bot"
	// ReasonUnavailable: the store could not take the batch (503).
	ReasonUnavailable = "unavailable"
)

// meta is what the decoder learns about an event beside the event itself.
type meta struct {
	// reason and detail are set when the event is rejected.
	reason string
	detail string
	// scripted is the browser's proof that the tracker script ran.
	scripted bool
	hasTime  bool
	// ip and ua are user.ip and user.user_agent of a server event.
	ip string
	ua string
	// user is matching data still to be hashed (or checked as digests).
	user enrich.RawUser
}

func (m *meta) reject(reason, detail string) {
	if m.reason == "" {
		m.reason, m.detail = reason, detail
	}
}

// batch is one decoded request body.
type batch struct {
	site   string
	events []event.Event
	metas  []meta
}

// validate checks what both endpoints require of an event, normalizes what
// it may (default names, upper-case currency, refund sign) and records a
// rejection in m. now is the collector's clock.
func validate(ev *event.Event, m *meta, now time.Time) {
	switch {
	case ev.EventID == "":
		m.reject(ReasonInvalid, "event_id: required")
	case len(ev.EventID) > maxIDLen:
		m.reject(ReasonInvalid, "event_id: longer than 128 bytes")
	case !printableID(ev.EventID):
		m.reject(ReasonInvalid, "event_id: must be printable ASCII without spaces")
	}
	if ev.Type == "" {
		m.reject(ReasonInvalid, "type: required, one of pageview, click, form_submit, conversion, custom, identify")
	}
	if ev.Name == "" {
		switch ev.Type {
		case event.TypePageview, event.TypeClick, event.TypeFormSubmit, event.TypeIdentify:
			ev.Name = string(ev.Type)
		default:
			m.reject(ReasonInvalid, "name: required for "+string(ev.Type)+" events")
		}
	}
	if len(ev.Name) > maxNameLen {
		m.reject(ReasonInvalid, "name: longer than 128 bytes")
	}
	if len(ev.OrderID) > maxIDLen {
		m.reject(ReasonInvalid, "order_id: longer than 128 bytes")
	}
	if len(ev.UserID) > maxUserIDLen {
		m.reject(ReasonInvalid, "user_id: longer than 256 bytes")
	}
	if len(ev.VisitorID) > maxIDLen {
		m.reject(ReasonInvalid, "visitor_id: longer than 128 bytes")
	}
	if f := enrich.ValidateDigests(m.user); f != "" {
		m.reject(ReasonInvalid, "user."+f+": must be a SHA-256 hex digest (64 hex digits)")
	}
	if ev.Currency != "" {
		c, ok := currency(ev.Currency)
		if !ok {
			m.reject(ReasonInvalid, "currency: must be a three-letter ISO 4217 code")
		}
		ev.Currency = c
	}
	if ev.Value != nil {
		// Refunds are stored with a negative value whichever sign the client
		// sent, so summing values nets revenue; any other event with a
		// negative value is a mistake.
		switch v := *ev.Value; {
		case math.IsNaN(v) || math.Abs(v) > event.MaxAbsValue:
			m.reject(ReasonInvalid, "value: larger than 1e12, the most one event may carry")
		case ev.Name == "refund" && v > 0:
			*ev.Value = -v
		case v < 0 && ev.Name != "refund":
			m.reject(ReasonInvalid, "value: negative (only refund events may be negative)")
		}
	}
	switch {
	case !m.hasTime:
		// The browser protocol lets a client omit ts; the server API does
		// not (its decoder rejects earlier).
		ev.Timestamp = now
	case ev.Timestamp.Before(now.Add(-MaxEventAge)):
		m.reject(ReasonTooOld, "timestamp: more than 72h in the past")
	case ev.Timestamp.After(now.Add(MaxClockSkew)):
		m.reject(ReasonInFuture, "timestamp: more than 5m in the future")
	}
}

// printableID reports whether s has only printable ASCII without spaces:
// event ids end up in URLs, logs and platform APIs.
func printableID(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// currency upper-cases a three-letter code.
func currency(s string) (string, bool) {
	if len(s) != 3 {
		return s, false
	}
	upper := true
	for i := 0; i < 3; i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
		case 'a' <= c && c <= 'z':
			upper = false
		default:
			return s, false
		}
	}
	if upper {
		return s, true
	}
	return strings.ToUpper(s), true
}

// gaClientID extracts the client id from a _ga cookie value
// ("GA1.1.123456789.1700000000" → "123456789.1700000000"); other values are
// kept as they are.
func gaClientID(s string) string {
	if !strings.HasPrefix(s, "GA") {
		return s
	}
	_, rest, ok := strings.Cut(s, ".")
	if !ok {
		return s
	}
	_, id, ok := strings.Cut(rest, ".")
	if !ok || id == "" {
		return s
	}
	return id
}
