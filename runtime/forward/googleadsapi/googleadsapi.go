package googleadsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/internal/googleauth"
)

// Google Ads API facts.
const (
	// DefaultBase is the Google Ads API's scheme and host.
	DefaultBase = "https://googleads.googleapis.com"
	// Version is the API version this adapter speaks.
	Version = "v26"
	// Scope is the OAuth2 scope the refresh token must carry.
	Scope = "https://www.googleapis.com/auth/adwords"
	// MaxConversions is the most conversions (and adjustments) per request.
	MaxConversions = 2000
	// KeyDeveloperToken is the Secret key of the developer token.
	KeyDeveloperToken = "developerToken"
)

var (
	customerIDPattern = regexp.MustCompile(`^[0-9]{10}$`)
	actionIDPattern   = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Platform uploads click conversions and conversion adjustments to one
// conversion action through the Google Ads API.
type Platform struct {
	clicksURL      string
	adjustmentsURL string
	client         *http.Client
	tokens         *googleauth.Tokens
	developerToken string
	loginCustomer  string
	action         string // customers/{cid}/conversionActions/{id}
	validateOnly   bool
}

// New validates the googleAdsAPI block and credentials of d.
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	b := d.GoogleAdsAPI
	if b == nil {
		return nil, fmt.Errorf("destination %q: the googleAdsAPI settings block is missing", d.Name)
	}
	if err := validateBlock(b); err != nil {
		return nil, fmt.Errorf("destination %q: googleAdsAPI.%w", d.Name, err)
	}
	if err := creds.Require(KeyDeveloperToken); err != nil {
		return nil, fmt.Errorf("destination %q: googleAdsAPI: %w", d.Name, err)
	}
	customer := "/" + Version + "/customers/" + b.CustomerID
	clicks, err := forward.Endpoint(DefaultBase, b.Endpoint.Endpoint, customer+":uploadClickConversions")
	if err != nil {
		return nil, fmt.Errorf("destination %q: googleAdsAPI.endpoint: %w", d.Name, err)
	}
	adjustments, _ := forward.Endpoint(DefaultBase, b.Endpoint.Endpoint, customer+":uploadConversionAdjustments")
	tokens, err := googleauth.NewTokens(creds, b.TokenURL, Scope, client)
	if err != nil {
		return nil, fmt.Errorf("destination %q: googleAdsAPI: %w", d.Name, err)
	}
	return &Platform{
		clicksURL:      clicks,
		adjustmentsURL: adjustments,
		client:         client,
		tokens:         tokens,
		developerToken: creds[KeyDeveloperToken],
		loginCustomer:  b.LoginCustomerID,
		action:         "customers/" + b.CustomerID + "/conversionActions/" + b.ConversionActionID,
		validateOnly:   b.ValidateOnly,
	}, nil
}

func validateBlock(b *v1alpha1.GoogleAdsDestination) error {
	switch {
	case !customerIDPattern.MatchString(b.CustomerID):
		return fmt.Errorf("customerID %q must be the 10-digit Google Ads customer id without dashes", b.CustomerID)
	case !actionIDPattern.MatchString(b.ConversionActionID):
		return fmt.Errorf("conversionActionID %q must be the numeric conversion action id", b.ConversionActionID)
	case b.LoginCustomerID != "" && !customerIDPattern.MatchString(b.LoginCustomerID):
		return fmt.Errorf("loginCustomerID %q must be a 10-digit customer id without dashes", b.LoginCustomerID)
	}
	return nil
}

// MaxBatch is the Google Ads API's limit of conversions per request.
func (p *Platform) MaxBatch() int { return MaxConversions }

// DefaultEvents maps sales to the conversion action, and refunds and
// cancellations to adjustments of it (see the package doc).
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{"purchase": "purchase", "refund": "adjustment", "cancel": "adjustment"}
}

// upload is one request's rows: what to send, and which items they are.
type upload struct {
	rows  []any
	items []int
}

// Send uploads the click conversions of items in one request and the
// adjustments (refunds, cancellations) in another. Rows Google rejects
// come back per row in partialFailureError.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	if len(items) > MaxConversions {
		return nil, &forward.Error{Kind: forward.Permanent, Message: fmt.Sprintf("%d events in one batch; the Google Ads API takes at most %d", len(items), MaxConversions)}
	}
	outcomes := make([]forward.Outcome, len(items))
	var clicks, adjustments upload
	for i, it := range items {
		var row any
		var reason string
		target := &clicks
		if isAdjustment(it.Event.Name) {
			row, reason = p.adjustment(it)
			target = &adjustments
		} else {
			row, reason = p.clickConversion(&it.Event)
		}
		if reason != "" {
			outcomes[i] = forward.Outcome{Status: forward.Failed, Reason: reason}
			continue
		}
		target.rows = append(target.rows, row)
		target.items = append(target.items, i)
	}
	var errs []error
	for _, u := range []struct {
		upload
		url, field string
	}{{clicks, p.clicksURL, "conversions"}, {adjustments, p.adjustmentsURL, "conversionAdjustments"}} {
		if len(u.rows) == 0 {
			continue
		}
		rows, err := p.post(ctx, u.url, u.field, u.rows)
		if err != nil {
			errs = append(errs, err)
			fillFromError(outcomes, u.items, err)
			continue
		}
		for k, i := range u.items {
			outcomes[i] = rows[k]
		}
	}
	// A request error stands for the batch only when every request failed;
	// otherwise the failed request's items carry it (fillFromError).
	if len(errs) > 0 && len(errs) == nonEmpty(clicks, adjustments) {
		return nil, errs[0]
	}
	return outcomes, nil
}

func nonEmpty(us ...upload) int {
	n := 0
	for _, u := range us {
		if len(u.rows) > 0 {
			n++
		}
	}
	return n
}

// fillFromError gives the items of a failed request the outcome its error
// implies: a permanent error fails them, anything else retries them.
func fillFromError(outcomes []forward.Outcome, items []int, err error) {
	fe := forward.AsError(err)
	o := forward.Outcome{Status: forward.Retry, Reason: fe.Error(), RetryAfter: fe.RetryAfter}
	if fe.Kind == forward.Permanent {
		o = forward.Outcome{Status: forward.Failed, Reason: fe.Error()}
	}
	for _, i := range items {
		outcomes[i] = o
	}
}

// post sends rows under field with partialFailure on and returns one
// outcome per row.
func (p *Platform) post(ctx context.Context, url, field string, rows []any) ([]forward.Outcome, error) {
	body, err := json.Marshal(map[string]any{field: rows, "partialFailure": true, "validateOnly": p.validateOnly})
	if err != nil {
		return nil, &forward.Error{Kind: forward.Permanent, Message: "encoding the request: " + err.Error()}
	}
	token, err := p.tokens.Token()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &forward.Error{Kind: forward.Permanent, Message: googleauth.Unwrap(err).Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("developer-token", p.developerToken)
	if p.loginCustomer != "" {
		req.Header.Set("login-customer-id", p.loginCustomer)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, &forward.Error{Kind: forward.Transient, Message: p.redact(googleauth.Unwrap(err).Error())}
	}
	defer resp.Body.Close()
	answer, err := googleauth.ReadBody(resp)
	if err != nil {
		return nil, &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "reading the answer: " + googleauth.Unwrap(err).Error()}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode == http.StatusUnauthorized {
			p.tokens.Invalidate()
		}
		return nil, p.requestError(resp, answer)
	}
	return p.rowOutcomes(resp, answer, len(rows))
}

// redact scrubs the developer token as well as the OAuth secrets.
func (p *Platform) redact(s string) string {
	s = p.tokens.Redact(s)
	if p.developerToken != "" {
		s = strings.ReplaceAll(s, p.developerToken, "[redacted]")
	}
	return s
}
