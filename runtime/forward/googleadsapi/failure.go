package googleadsapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/internal/googleauth"
)

// googleAdsFailure is the GoogleAdsFailure of an error's details or of a
// partialFailureError, read loosely so any API version's answer parses.
type googleAdsFailure struct {
	Type   string `json:"@type"`
	Errors []struct {
		// ErrorCode has one key, the error family (conversionUploadError,
		// notAllowlistedError, ...), whose value is the enum name.
		ErrorCode map[string]string `json:"errorCode"`
		Message   string            `json:"message"`
		Location  struct {
			FieldPathElements []struct {
				FieldName string `json:"fieldName"`
				Index     *int   `json:"index"`
			} `json:"fieldPathElements"`
		} `json:"location"`
	} `json:"errors"`
	RequestID string `json:"requestId"`
}

// failures decodes the GoogleAdsFailure entries of a details list.
func failures(details []json.RawMessage) []googleAdsFailure {
	var out []googleAdsFailure
	for _, d := range details {
		var f googleAdsFailure
		if json.Unmarshal(d, &f) == nil && strings.HasSuffix(f.Type, ".GoogleAdsFailure") {
			out = append(out, f)
		}
	}
	return out
}

// notAllowlisted is Google's refusal of offline click-conversion uploads
// from developer tokens that were not uploading before 2026-06-15.
const notAllowlisted = "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"

// requestError classifies a non-2xx answer: by status (401/403 Auth, 429
// and 5xx Transient, else Permanent) with Google's own error message,
// except that a token not allowlisted for uploads is Permanent and says
// to switch to the Data Manager API.
func (p *Platform) requestError(resp *http.Response, body []byte) *forward.Error {
	msg := googleauth.Message(body)
	if eb, ok := googleauth.ParseError(body); ok {
		for _, f := range failures(eb.Error.Details) {
			for _, e := range f.Errors {
				code := errorCode(e.ErrorCode)
				if strings.Contains(code, notAllowlisted) {
					return &forward.Error{Kind: forward.Permanent, Status: resp.StatusCode, Message: notAllowlisted +
						": Google Ads no longer takes offline conversion uploads from this developer token; use a Destination of type googleAds (Data Manager API)"}
				}
				if code != "" && e.Message != "" {
					msg = googleauth.Truncate(code + ": " + e.Message)
				}
			}
		}
	}
	return forward.ClassifyHTTP(resp, p.redact(msg))
}

// errorCode renders {"conversionUploadError":"TOO_RECENT_EVENT"} as
// "TOO_RECENT_EVENT" (the enum names are unique enough to act on).
func errorCode(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var codes []string
	for _, k := range keys {
		codes = append(codes, m[k])
	}
	return strings.Join(codes, ",")
}

// uploadResponse is the part of an upload's answer this adapter reads.
type uploadResponse struct {
	PartialFailureError *struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	} `json:"partialFailureError"`
}

// rowOutcomes maps an upload's answer to one outcome per row: Sent unless
// partialFailureError names the row (field path conversions[i] or
// conversionAdjustments[i]); an error without a row index applies to all.
func (p *Platform) rowOutcomes(resp *http.Response, body []byte, n int) ([]forward.Outcome, error) {
	var r uploadResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "unreadable answer: " + googleauth.Truncate(p.redact(string(body)))}
	}
	requestID := resp.Header.Get("request-id")
	rows := make([][]rowError, n)
	if pf := r.PartialFailureError; pf != nil {
		for _, f := range failures(pf.Details) {
			if requestID == "" {
				requestID = f.RequestID
			}
			for _, e := range f.Errors {
				re := rowError{code: errorCode(e.ErrorCode), message: e.Message}
				i, ok := rowIndex(e.Location.FieldPathElements)
				switch {
				case ok && i >= 0 && i < n:
					rows[i] = append(rows[i], re)
				case !ok:
					for k := range rows {
						rows[k] = append(rows[k], re)
					}
				}
			}
		}
	}
	out := make([]forward.Outcome, n)
	for i, errs := range rows {
		out[i] = p.outcome(errs)
		out[i].ResponseID = requestID
	}
	return out, nil
}

type rowError struct{ code, message string }

func rowIndex(path []struct {
	FieldName string `json:"fieldName"`
	Index     *int   `json:"index"`
}) (int, bool) {
	for _, el := range path {
		if el.Index != nil {
			return *el.Index, true
		}
	}
	return 0, false
}

// Retry waits Google asks for: a click or conversion action younger than
// 6 hours, a conversion adjusted less than 24 hours after it happened.
const (
	tooRecentClickWait      = 6 * time.Hour
	tooRecentConversionWait = 24 * time.Hour
)

// outcome combines a row's errors: any permanent one fails it, else any
// retryable one retries it, else (none, or only "already there") it is
// Sent.
func (p *Platform) outcome(errs []rowError) forward.Outcome {
	var retry *forward.Outcome
	var reasons []string
	for _, e := range errs {
		switch e.code {
		case "CLICK_CONVERSION_ALREADY_EXISTS", "CONVERSION_ALREADY_RETRACTED", "RESTATEMENT_ALREADY_EXISTS":
			continue // recorded by an earlier attempt: the goal is met
		case "TOO_RECENT_EVENT", "TOO_RECENT_CONVERSION_ACTION":
			retry = &forward.Outcome{Status: forward.Retry, RetryAfter: tooRecentClickWait}
		case "TOO_RECENT_CONVERSION":
			retry = &forward.Outcome{Status: forward.Retry, RetryAfter: tooRecentConversionWait}
		default:
			reasons = append(reasons, e.code+": "+e.message)
			continue
		}
		retry.Reason = p.redact(googleauth.Truncate(e.code + ": " + e.message))
	}
	switch {
	case len(reasons) > 0:
		return forward.Outcome{Status: forward.Failed, Reason: p.redact(googleauth.Truncate(strings.Join(reasons, "; ")))}
	case retry != nil:
		return *retry
	}
	return forward.Outcome{Status: forward.Sent}
}
