package googleads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/internal/googleauth"
)

// Data Manager API facts.
const (
	// DefaultBase is the Data Manager API's scheme and host.
	DefaultBase = "https://datamanager.googleapis.com"
	// IngestPath is the events:ingest method.
	IngestPath = "/v1/events:ingest"
	// Scope is the OAuth2 scope the refresh token must carry.
	Scope = "https://www.googleapis.com/auth/datamanager"
	// MaxEvents is the most events one ingest request may carry.
	MaxEvents = 2000
)

var (
	customerIDPattern = regexp.MustCompile(`^[0-9]{10}$`)
	actionIDPattern   = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Platform sends conversions to one Google Ads conversion action through
// the Data Manager API.
type Platform struct {
	url          string
	client       *http.Client
	tokens       *googleauth.Tokens
	destinations []*dmDestination
	validateOnly bool
}

// New validates the googleAds block and credentials of d.
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	b := d.GoogleAds
	if b == nil {
		return nil, fmt.Errorf("destination %q: the googleAds settings block is missing", d.Name)
	}
	if err := validateBlock(b); err != nil {
		return nil, fmt.Errorf("destination %q: googleAds.%w", d.Name, err)
	}
	u, err := forward.Endpoint(DefaultBase, b.Endpoint.Endpoint, IngestPath)
	if err != nil {
		return nil, fmt.Errorf("destination %q: googleAds.endpoint: %w", d.Name, err)
	}
	tokens, err := googleauth.NewTokens(creds, b.TokenURL, Scope, client)
	if err != nil {
		return nil, fmt.Errorf("destination %q: googleAds: %w", d.Name, err)
	}
	return &Platform{
		url:          u,
		client:       client,
		tokens:       tokens,
		destinations: []*dmDestination{destination(b)},
		validateOnly: b.ValidateOnly,
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

// destination is the one Google Ads account and conversion action every
// event of this destination goes to.
func destination(b *v1alpha1.GoogleAdsDestination) *dmDestination {
	d := &dmDestination{
		OperatingAccount:     &dmAccount{AccountType: "GOOGLE_ADS", AccountID: b.CustomerID},
		ProductDestinationID: b.ConversionActionID,
	}
	if b.LoginCustomerID != "" {
		d.LoginAccount = &dmAccount{AccountType: "GOOGLE_ADS", AccountID: b.LoginCustomerID}
	}
	return d
}

// MaxBatch is the Data Manager API's limit of events per request.
func (p *Platform) MaxBatch() int { return MaxEvents }

// DefaultEvents maps sales to the conversion action and refunds to value
// restatements (see the package doc).
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{"purchase": "purchase", "refund": "adjustment"}
}

// Send ingests items in one request. Items that cannot be matched or
// adjusted are Failed first and left out; the rest share the request's
// fate, since the Data Manager API accepts or rejects a request whole.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	if len(items) > MaxEvents {
		return nil, &forward.Error{Kind: forward.Permanent, Message: fmt.Sprintf("%d events in one batch; the Data Manager API takes at most %d", len(items), MaxEvents)}
	}
	outcomes := make([]forward.Outcome, len(items))
	events := make([]*dmEvent, 0, len(items))
	sent := make([]int, 0, len(items))
	for i, it := range items {
		ev, reason := buildEvent(it)
		if reason != "" {
			outcomes[i] = forward.Outcome{Status: forward.Failed, Reason: reason}
			continue
		}
		events = append(events, ev)
		sent = append(sent, i)
	}
	if len(events) == 0 {
		return outcomes, nil
	}
	requestID, err := p.ingest(ctx, events)
	if err != nil {
		return nil, err
	}
	for _, i := range sent {
		outcomes[i] = forward.Outcome{Status: forward.Sent, ResponseID: requestID}
	}
	return outcomes, nil
}

// ingest sends one IngestEventsRequest and returns Google's requestId.
func (p *Platform) ingest(ctx context.Context, events []*dmEvent) (string, error) {
	body, err := (&ingestRequest{
		Destinations: p.destinations,
		Events:       events,
		Encoding:     "HEX",
		ValidateOnly: p.validateOnly,
	}).encode()
	if err != nil {
		return "", &forward.Error{Kind: forward.Permanent, Message: "encoding the request: " + err.Error()}
	}
	token, err := p.tokens.Token()
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return "", &forward.Error{Kind: forward.Permanent, Message: googleauth.Unwrap(err).Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.client.Do(req)
	if err != nil {
		return "", &forward.Error{Kind: forward.Transient, Message: p.tokens.Redact(googleauth.Unwrap(err).Error())}
	}
	defer resp.Body.Close()
	answer, err := googleauth.ReadBody(resp)
	if err != nil {
		return "", &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "reading the answer: " + googleauth.Unwrap(err).Error()}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode == http.StatusUnauthorized {
			p.tokens.Invalidate()
		}
		return "", forward.ClassifyHTTP(resp, p.tokens.Redact(googleauth.Message(answer)))
	}
	var ok ingestResponse
	if err := json.Unmarshal(answer, &ok); err != nil {
		return "", &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "unreadable answer: " + googleauth.Truncate(string(answer))}
	}
	return ok.RequestID, nil
}

// errNoMatch says why an event cannot reach Google Ads at all.
var errNoMatch = errors.New("no gclid, gbraid, wbraid, hashed email or E.164 phone to match the conversion to an ad click")
