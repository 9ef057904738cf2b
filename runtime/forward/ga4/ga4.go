package ga4

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
)

// DefaultBase is the Measurement Protocol's host.
const DefaultBase = "https://www.google-analytics.com"

// Paths of the collection and validation endpoints.
const (
	CollectPath      = "/mp/collect"
	DebugCollectPath = "/debug/mp/collect"
)

// CredentialAPISecret is the credential key of the Measurement Protocol API secret.
const CredentialAPISecret = "apiSecret"

// Limits of the Measurement Protocol.
const (
	// MaxEventsPerRequest is how many events one request may carry.
	MaxEventsPerRequest = 25
	// MaxParamsPerEvent is how many params one event may carry.
	MaxParamsPerEvent = 25
	// MaxNameLen bounds event and param names.
	MaxNameLen = 40
	// MaxParamValueLen bounds string param values.
	MaxParamValueLen = 100
	// MaxUserIDLen bounds user_id.
	MaxUserIDLen = 256
	// MaxBodyBytes is the bound a request body must stay under.
	MaxBodyBytes = 130_000
	// MaxAge is how far back GA4 accepts an event's timestamp.
	MaxAge = 72 * time.Hour
)

// maxBatch is what one Send takes: several requests of at most 25 events,
// one group per client.
const maxBatch = 100

// Platform sends events to one GA4 web stream.
type Platform struct {
	client    *http.Client
	url       string // with the query, api_secret included: never in errors
	apiSecret string
	debug     bool
	now       func() time.Time
}

// New checks the ga4 settings block and the apiSecret credential.
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	block := d.GA4
	if block == nil {
		return nil, errors.New("ga4: the ga4 settings block is missing")
	}
	if block.MeasurementID == "" {
		return nil, errors.New("ga4: measurementID is empty")
	}
	if err := creds.Require(CredentialAPISecret); err != nil {
		return nil, fmt.Errorf("ga4: %w", err)
	}
	if client == nil {
		return nil, errors.New("ga4: no HTTP client")
	}
	path := CollectPath
	if block.Debug {
		path = DebugCollectPath
	}
	endpoint, err := forward.Endpoint(DefaultBase, block.Endpoint.Endpoint, path)
	if err != nil {
		return nil, fmt.Errorf("ga4: %w", err)
	}
	q := url.Values{"measurement_id": {block.MeasurementID}, "api_secret": {creds[CredentialAPISecret]}}
	return &Platform{
		client:    client,
		url:       endpoint + "?" + q.Encode(),
		apiSecret: creds[CredentialAPISecret],
		debug:     block.Debug,
		now:       time.Now,
	}, nil
}

// MaxBatch is larger than GA4's 25 events per request: Send splits a batch
// into one request per client and per 25 events.
func (p *Platform) MaxBatch() int { return maxBatch }

// DefaultEvents maps trackstack's event names to GA4's recommended events.
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{
		"purchase":          "purchase",
		"lead":              "generate_lead",
		"signup":            "sign_up",
		"login":             "login",
		"add_to_cart":       "add_to_cart",
		"remove_from_cart":  "remove_from_cart",
		"add_to_wishlist":   "add_to_wishlist",
		"view_item":         "view_item",
		"view_cart":         "view_cart",
		"begin_checkout":    "begin_checkout",
		"add_payment_info":  "add_payment_info",
		"add_shipping_info": "add_shipping_info",
		"search":            "search",
		"refund":            "refund",
	}
}

var (
	_ forward.Platform  = (*Platform)(nil)
	_ forward.Defaulter = (*Platform)(nil)
)
