package meta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/trackstack/trackstack/runtime/forward"
)

// graphError is the error object of a Graph API answer.
type graphError struct {
	Error struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		IsTransient  bool   `json:"is_transient"`
		UserTitle    string `json:"error_user_title"`
		UserMsg      string `json:"error_user_msg"`
		FBTraceID    string `json:"fbtrace_id"`
	} `json:"error"`
}

// Graph API error codes that change how a failure is classified.
const (
	codeInvalidToken = 190 // OAuthException: expired, revoked or wrong token
)

// throttleCodes are Graph API rate-limit codes: application (4), user (17),
// page (32) and custom (613) request limits. Waiting fixes them.
var throttleCodes = map[int]bool{4: true, 17: true, 32: true, 613: true}

// classify turns a non-2xx answer into a whole-batch error.
func classify(resp *http.Response, body []byte) *forward.Error {
	var g graphError
	if json.Unmarshal(body, &g) != nil || g.Error.Message == "" {
		return forward.ClassifyHTTP(resp, "Meta answered: "+forward.Truncate(string(body), maxMessage))
	}
	e := forward.ClassifyHTTP(resp, forward.Truncate(describe(g), maxMessage))
	switch {
	case g.Error.IsTransient:
		e.Kind = forward.Transient
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || g.Error.Code == codeInvalidToken:
		e.Kind = forward.Auth
	case throttleCodes[g.Error.Code]:
		e.Kind = forward.Transient
	}
	return e
}

// describe is Meta's error as one readable line: the message meant for
// people when there is one, and the codes support asks for.
func describe(g graphError) string {
	var b strings.Builder
	b.WriteString("Meta: ")
	b.WriteString(g.Error.Message)
	if g.Error.UserMsg != "" {
		b.WriteString(": ")
		b.WriteString(g.Error.UserMsg)
	}
	fmt.Fprintf(&b, " (type %s, code %d", g.Error.Type, g.Error.Code)
	if g.Error.ErrorSubcode != 0 {
		fmt.Fprintf(&b, ", subcode %d", g.Error.ErrorSubcode)
	}
	if g.Error.FBTraceID != "" {
		fmt.Fprintf(&b, ", fbtrace_id %s", g.Error.FBTraceID)
	}
	b.WriteString(")")
	return b.String()
}
