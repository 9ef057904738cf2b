// Package googleadsapifake is a strict local stand-in for the Google Ads
// API's uploadClickConversions and uploadConversionAdjustments (v26) and
// Google's OAuth2 token endpoint, for tests of the googleadsapi adapter
// and of the engine.
//
// Every body is decoded with protojson (unknown fields rejected) into the
// published protos of github.com/shenzhencenter/google-ads-pb v1.25.0 (API
// v25, the newest the module proxy serves; the two messages are the same in
// v26), then checked against the rules the protos cannot express.
//
// Whole request (answered 400 in Google's error shape, with a
// GoogleAdsFailure in details): bearer token issued by Tokens, the
// developer-token header, 10-digit customer ids, partialFailure true, 1 to
// 2000 rows, no unknown field, one identifier per userIdentifiers object.
//
// Per row (answered in partialFailureError at conversions[i] or
// conversion_adjustments[i], the other rows recorded): at most one of
// gclid, gbraid and wbraid, and a click id or user identifiers (enhanced
// conversions for leads); conversionAction of the path's customer;
// conversionDateTime "yyyy-mm-dd hh:mm:ss+hh:mm" with its zone; at most 5
// identifiers, hashedEmail or hashedPhoneNumber as SHA-256 hex; values of 0
// or more; a click and time already recorded is
// CLICK_CONVERSION_ALREADY_EXISTS. Adjustments: orderId or
// gclidDateTimePair, not both, naming a recorded conversion;
// adjustmentDateTime with its zone and later than the conversion;
// RESTATEMENT with restatementValue, RETRACTION without, and no second
// retraction.
package googleadsapifake

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	adserrors "github.com/shenzhencenter/google-ads-pb/errors"
	"github.com/shenzhencenter/google-ads-pb/services"

	"github.com/trackstack/trackstack/runtime/forward/internal/googleauth/googleauthfake"
)

// TokenPath is where the fake's token endpoint is served.
const TokenPath = googleauthfake.Path

const maxBody = 10 << 20

var customerID = regexp.MustCompile(`^[0-9]{10}$`)

// Mark is what the fake answers for a conversion with a given gclid.
type Mark int

// Marks for MarkGclid.
const (
	// AlreadyExists answers CLICK_CONVERSION_ALREADY_EXISTS.
	AlreadyExists Mark = iota + 1
	// TooRecent answers TOO_RECENT_EVENT (the click is under 6 hours old).
	TooRecent
	// Expired answers EXPIRED_EVENT (the click is older than the window).
	Expired
)

// Fake is an http.Handler serving the token endpoint at TokenPath and the
// two upload methods under /v26/customers/{cid}. Safe for concurrent use.
type Fake struct {
	// Tokens is the token endpoint: its Hits, Revoke and FailNext are the
	// knobs for OAuth behaviour.
	Tokens         *googleauthfake.Server
	developerToken string

	mu             sync.Mutex
	count          int
	fails          []int
	notAllowlisted bool
	marks          map[string]Mark
	recorded       map[string]bool      // gclid|dateTime|action of recorded conversions
	orders         map[string]time.Time // order id → conversion time
	retracted      map[string]bool
	conversions    []*services.ClickConversion
	adjustments    []*services.ConversionAdjustment
}

// New returns a fake accepting these OAuth client credentials, refresh
// token and developer token.
func New(clientID, clientSecret, refreshToken, developerToken string) *Fake {
	return &Fake{
		Tokens:         googleauthfake.New(clientID, clientSecret, refreshToken),
		developerToken: developerToken,
		marks:          map[string]Mark{},
		recorded:       map[string]bool{},
		orders:         map[string]time.Time{},
		retracted:      map[string]bool{},
	}
}

// FailNext makes the next n upload requests that pass authentication
// answer status (429, 500, 503, 403, 400, ...) in Google's error shape.
func (f *Fake) FailNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.fails = append(f.fails, status)
	}
}

// SetNotAllowlisted makes uploadClickConversions refuse the developer
// token with CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE, as Google does for
// tokens that were not uploading before 2026-06-15.
func (f *Fake) SetNotAllowlisted(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notAllowlisted = on
}

// MarkGclid makes conversions with this gclid fail with m's error.
func (f *Fake) MarkGclid(gclid string, m Mark) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.marks[gclid] = m
}

// RecordConversion seeds a conversion with this order id, as if uploaded
// earlier, so adjustments can name it.
func (f *Fake) RecordConversion(orderID string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orders[orderID] = at
}

// RequestCount is how many upload requests arrived, good or bad.
func (f *Fake) RequestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

// Conversions returns the click conversions recorded (not validateOnly).
func (f *Fake) Conversions() []*services.ClickConversion {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*services.ClickConversion(nil), f.conversions...)
}

// Adjustments returns the conversion adjustments recorded.
func (f *Fake) Adjustments() []*services.ConversionAdjustment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*services.ConversionAdjustment(nil), f.adjustments...)
}

// ServeHTTP routes to the token endpoint or an upload method.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath {
		f.Tokens.ServeHTTP(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v26/customers/")
	cid, method, _ := strings.Cut(rest, ":")
	if !ok || (method != "uploadClickConversions" && method != "uploadConversionAdjustments") {
		writeError(w, http.StatusNotFound, "The requested URL "+r.URL.Path+" was not found on this server.")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, method+" takes POST")
		return
	}
	f.mu.Lock()
	f.count++
	f.mu.Unlock()
	if !f.admit(w, r, cid) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, http.StatusBadRequest, "request body unreadable or too large")
		return
	}
	if method == "uploadClickConversions" {
		f.uploadClicks(w, cid, body)
	} else {
		f.uploadAdjustments(w, cid, body)
	}
}

// admit checks credentials, headers and injected failures; false means
// it answered.
func (f *Fake) admit(w http.ResponseWriter, r *http.Request, cid string) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	dev := r.Header.Get("developer-token")
	login := r.Header.Get("login-customer-id")
	switch {
	case !ok || !f.Tokens.Valid(token):
		writeError(w, http.StatusUnauthorized, "Request is missing required authentication credential. Expected OAuth 2 access token.",
			requestError(authCode(adserrors.AuthenticationErrorEnum_OAUTH_TOKEN_INVALID), "Oauth token is invalid."))
	case dev == "":
		writeError(w, http.StatusBadRequest, "Request contains an invalid argument.",
			requestError(requestCode(adserrors.RequestErrorEnum_DEVELOPER_TOKEN_PARAMETER_MISSING), "Developer token is missing."))
	case dev != f.developerToken:
		writeError(w, http.StatusUnauthorized, "Request had invalid authentication credentials.",
			requestError(authCode(adserrors.AuthenticationErrorEnum_DEVELOPER_TOKEN_INVALID), "The developer token is not valid."))
	case !customerID.MatchString(cid) || (login != "" && !customerID.MatchString(login)):
		writeError(w, http.StatusBadRequest, "Request contains an invalid argument.",
			requestError(requestCode(adserrors.RequestErrorEnum_INVALID_CUSTOMER_ID), "Invalid customer ID '"+cid+"'."))
	default:
		if status, failed := f.nextFailure(); failed {
			writeError(w, status, "injected failure")
			return false
		}
		return true
	}
	return false
}

func (f *Fake) nextFailure() (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fails) == 0 {
		return 0, false
	}
	s := f.fails[0]
	f.fails = f.fails[1:]
	return s, true
}
