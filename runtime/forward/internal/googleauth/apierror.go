package googleauth

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/trackstack/trackstack/runtime/forward"
)

// maxBody bounds how much of an answer is read: Google's answers are
// small, and a proxy's error page must not fill memory.
const maxBody = 4 << 20

// ErrorBody is Google's JSON error shape, shared by the Data Manager API,
// the Google Ads API and the OAuth2 endpoint's API callers:
// {"error": {"code", "message", "status", "details"}}.
type ErrorBody struct {
	Error struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Status  string            `json:"status"`
		Details []json.RawMessage `json:"details,omitempty"`
	} `json:"error"`
}

// ReadBody reads an answer's body, bounded.
func ReadBody(resp *http.Response) ([]byte, error) {
	return io.ReadAll(io.LimitReader(resp.Body, maxBody))
}

// ParseError decodes Google's error shape from body; ok is false when the
// body is something else (a proxy's page, nothing).
func ParseError(body []byte) (ErrorBody, bool) {
	var eb ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || (eb.Error.Message == "" && eb.Error.Status == "") {
		return ErrorBody{}, false
	}
	return eb, true
}

// Message is the readable part of a non-2xx answer: Google's status and
// message, or the start of whatever the body holds.
func Message(body []byte) string {
	if eb, ok := ParseError(body); ok {
		msg := eb.Error.Message
		if eb.Error.Status != "" {
			msg = eb.Error.Status + ": " + msg
		}
		return forward.Truncate(msg, maxMessage)
	}
	s := strings.TrimSpace(string(body))
	if s == "" {
		return "no error message"
	}
	return forward.Truncate(s, maxMessage)
}

// Truncate shortens a platform message for an error or a reason.
func Truncate(s string) string { return forward.Truncate(s, maxMessage) }
