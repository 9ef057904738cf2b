package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
)

// Platform facts.
const (
	// DefaultBase is the Graph API's base URL.
	DefaultBase = "https://graph.facebook.com"
	// APIVersion is the Graph API version events are sent to.
	APIVersion = "v26.0"
	// MaxEvents is the most events one request may carry.
	MaxEvents = 1000
	// MaxAge is how old an event may be: Meta rejects the whole request
	// when one event is older.
	MaxAge = 7 * 24 * time.Hour
	// ageMargin keeps an event that is just under MaxAge when the batch is
	// built from crossing it before Meta receives the request.
	ageMargin = time.Minute
	// maxMessage bounds the platform text kept in errors and reasons.
	maxMessage = 512
	// maxResponse bounds how much of an answer is read.
	maxResponse = 1 << 20
)

// Platform sends events to one Meta pixel (dataset).
type Platform struct {
	client        *http.Client
	url           string
	token         string
	testEventCode string
	now           func() time.Time
}

// New returns the Platform for d, which must carry a meta block with a
// pixel id; creds must hold accessToken.
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	b := d.Meta
	switch {
	case b == nil:
		return nil, fmt.Errorf("destination %q: the meta settings block is missing", d.Name)
	case b.PixelID == "":
		return nil, fmt.Errorf("destination %q: meta.pixelID is empty", d.Name)
	case client == nil:
		return nil, fmt.Errorf("destination %q: no HTTP client", d.Name)
	}
	if err := creds.Require("accessToken"); err != nil {
		return nil, fmt.Errorf("destination %q: %w", d.Name, err)
	}
	u, err := forward.Endpoint(DefaultBase, b.Endpoint.Endpoint, "/"+APIVersion+"/"+url.PathEscape(b.PixelID)+"/events")
	if err != nil {
		return nil, fmt.Errorf("destination %q: meta: %w", d.Name, err)
	}
	return &Platform{client: client, url: u, token: creds["accessToken"], testEventCode: b.TestEventCode, now: time.Now}, nil
}

// MaxBatch is Meta's limit of events per request.
func (p *Platform) MaxBatch() int { return MaxEvents }

// DefaultEvents maps trackstack's event names to Meta's standard events.
// Page views are left out: sending every one server-side costs requests
// and rate limit for little gain over the browser pixel; a Destination that
// wants them maps pageview to PageView itself.
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{
		"purchase":         "Purchase",
		"lead":             "Lead",
		"signup":           "CompleteRegistration",
		"add_to_cart":      "AddToCart",
		"begin_checkout":   "InitiateCheckout",
		"add_payment_info": "AddPaymentInfo",
		"view_item":        "ViewContent",
		"search":           "Search",
		"subscribe":        "Subscribe",
		"contact":          "Contact",
	}
}

// request is the body of POST /{pixelID}/events.
type request struct {
	Data          []serverEvent `json:"data"`
	TestEventCode string        `json:"test_event_code,omitempty"`
	AccessToken   string        `json:"access_token"`
}

// success is Meta's answer to an accepted request.
type success struct {
	EventsReceived int    `json:"events_received"`
	FBTraceID      string `json:"fbtrace_id"`
}

// Send posts the items that Meta can accept in one request.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	out := make([]forward.Outcome, len(items))
	body := request{TestEventCode: p.testEventCode, AccessToken: p.token}
	var sent []int
	now := p.now()
	for i, it := range items {
		if reason := rejectReason(it, now); reason != "" {
			out[i] = forward.Outcome{Status: forward.Failed, Reason: reason}
			continue
		}
		body.Data = append(body.Data, buildEvent(it))
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return out, nil
	}
	ok, err := p.post(ctx, body)
	if err != nil {
		return nil, forward.RedactError(err, p.token)
	}
	for _, i := range sent {
		out[i] = forward.Outcome{Status: forward.Sent, ResponseID: ok.FBTraceID}
	}
	return out, nil
}

// post sends one request and classifies the answer.
func (p *Platform) post(ctx context.Context, body request) (*success, error) {
	raw, encoded := body.encode()
	if !encoded {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("while encoding the meta request: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("while building the meta request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, forward.TransportError("Meta", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "while reading Meta's answer: " + err.Error()}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, classify(resp, data)
	}
	var ok success
	if err := json.Unmarshal(data, &ok); err != nil {
		return nil, &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "Meta's answer is not JSON: " + forward.Truncate(string(data), maxMessage)}
	}
	return &ok, nil
}
