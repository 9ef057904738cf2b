package forward

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind classifies a failed request.
type Kind int

// Kinds of failure.
const (
	// Transient failures are retried with backoff: 429, 5xx, timeouts,
	// connection errors, and what a platform marks as transient.
	Transient Kind = iota + 1
	// Permanent failures are never retried: the request is wrong for the
	// platform (4xx other than auth and 429, a rejected event).
	Permanent
	// Auth failures mean the platform rejects the credentials (401, 403).
	// Retried slowly, since fixing the Secret fixes them, and they make the
	// forwarder unready.
	Auth
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Auth:
		return "auth"
	}
	return "unknown"
}

// Error is a classified failure of a whole request.
type Error struct {
	Kind Kind
	// Status is the HTTP status, 0 when there was no response.
	Status int
	// RetryAfter is how long the platform asked to wait, if it did.
	RetryAfter time.Duration
	// Message is the platform's own message (or ours), readable and free of
	// secrets: adapters must never put a token or a URL carrying one here.
	Message string
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s failure (HTTP %d): %s", e.Kind, e.Status, e.Message)
	}
	return fmt.Sprintf("%s failure: %s", e.Kind, e.Message)
}

// AsError classifies any error: an *Error is returned as is, anything else
// (a connection reset, a timeout) is transient.
func AsError(err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return &Error{Kind: Transient, Message: err.Error()}
}

// ClassifyHTTP returns the Error for a non-2xx response, with message the
// platform's own text: 401 and 403 are Auth; 408, 425, 429 and 5xx are
// Transient (with Retry-After honoured); every other status is Permanent.
func ClassifyHTTP(resp *http.Response, message string) *Error {
	e := &Error{Status: resp.StatusCode, Message: message, RetryAfter: RetryAfter(resp.Header, time.Now())}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind = Auth
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly ||
		code == http.StatusTooManyRequests || code >= 500:
		e.Kind = Transient
	default:
		e.Kind = Permanent
	}
	return e
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date); zero
// when absent or unparsable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Truncate shortens a platform message to n bytes (on a rune boundary) so
// a huge error body never floods logs or records.
func Truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// TransportError is a request that got no answer (refused, reset, timed
// out) as a Transient error naming the platform, without the URL: a
// request URL may carry a secret (GA4's api_secret, Telegram's bot token)
// and *url.Error prints it.
func TransportError(platform string, err error) *Error {
	return &Error{Kind: Transient, Message: "while posting to " + platform + ": " + WithoutURL(err)}
}

// WithoutURL returns err's text without the URL a *url.Error names.
func WithoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " request: " + ue.Err.Error()
	}
	return err.Error()
}

// Redact replaces every non-empty secret in s with "[redacted]", for
// platform answers and client errors that echo one back.
func Redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// RedactError is Redact on an error: an *Error keeps its kind with its
// message redacted, any other error is replaced by one with redacted text.
func RedactError(err error, secrets ...string) error {
	var fe *Error
	if errors.As(err, &fe) {
		fe.Message = Redact(fe.Message, secrets...)
		return fe
	}
	if s := Redact(err.Error(), secrets...); s != err.Error() {
		return errors.New(s)
	}
	return err
}
