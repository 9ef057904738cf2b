package tiktok

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
)

// Platform facts.
const (
	// DefaultBase is the TikTok API for Business's base URL.
	DefaultBase = "https://business-api.tiktok.com"
	// Path is the Events API 2.0 track endpoint.
	Path = "/open_api/v1.3/event/track/"
	// MaxEvents is the most events one request carries (see the package doc).
	MaxEvents = 1000
	// maxMessage bounds the platform text kept in errors.
	maxMessage = 512
	// maxResponse bounds how much of an answer is read.
	maxResponse = 1 << 20
)

// Platform sends events to one TikTok pixel.
type Platform struct {
	client        *http.Client
	url           string
	token         string
	pixelCode     string
	testEventCode string
}

// New returns the Platform for d, which must carry a tiktok block with a
// pixel code; creds must hold accessToken.
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	b := d.TikTok
	switch {
	case b == nil:
		return nil, fmt.Errorf("destination %q: the tiktok settings block is missing", d.Name)
	case b.PixelCode == "":
		return nil, fmt.Errorf("destination %q: tiktok.pixelCode is empty", d.Name)
	case client == nil:
		return nil, fmt.Errorf("destination %q: no HTTP client", d.Name)
	}
	if err := creds.Require("accessToken"); err != nil {
		return nil, fmt.Errorf("destination %q: %w", d.Name, err)
	}
	u, err := forward.Endpoint(DefaultBase, b.Endpoint.Endpoint, Path)
	if err != nil {
		return nil, fmt.Errorf("destination %q: tiktok: %w", d.Name, err)
	}
	return &Platform{client: client, url: u, token: creds["accessToken"], pixelCode: b.PixelCode, testEventCode: b.TestEventCode}, nil
}

// MaxBatch is the most events per request.
func (p *Platform) MaxBatch() int { return MaxEvents }

// DefaultEvents maps trackstack's event names to TikTok's standard events.
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{
		"purchase":         "CompletePayment",
		"lead":             "SubmitForm",
		"signup":           "CompleteRegistration",
		"add_to_cart":      "AddToCart",
		"add_to_wishlist":  "AddToWishlist",
		"begin_checkout":   "InitiateCheckout",
		"add_payment_info": "AddPaymentInfo",
		"place_order":      "PlaceAnOrder",
		"view_item":        "ViewContent",
		"search":           "Search",
		"subscribe":        "Subscribe",
		"contact":          "Contact",
	}
}

// request is the body of event/track.
type request struct {
	EventSource   string        `json:"event_source"`
	EventSourceID string        `json:"event_source_id"`
	TestEventCode string        `json:"test_event_code,omitempty"`
	Data          []serverEvent `json:"data"`
}

// answer is TikTok's reply, success or not.
type answer struct {
	Code      *int   `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

// Send posts the items TikTok can accept in one request.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	out := make([]forward.Outcome, len(items))
	body := request{EventSource: "web", EventSourceID: p.pixelCode, TestEventCode: p.testEventCode}
	var sent []int
	for i, it := range items {
		if reason := rejectReason(it); reason != "" {
			out[i] = forward.Outcome{Status: forward.Failed, Reason: reason}
			continue
		}
		body.Data = append(body.Data, buildEvent(it))
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return out, nil
	}
	requestID, err := p.post(ctx, body)
	if err != nil {
		return nil, forward.RedactError(err, p.token)
	}
	for _, i := range sent {
		out[i] = forward.Outcome{Status: forward.Sent, ResponseID: requestID}
	}
	return out, nil
}

// post sends one request and returns TikTok's request_id, or the
// classified failure.
func (p *Platform) post(ctx context.Context, body request) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("while encoding the tiktok request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("while building the tiktok request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Access-Token", p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return "", forward.TransportError("TikTok", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "while reading TikTok's answer: " + err.Error()}
	}
	var a answer
	jsonErr := json.Unmarshal(data, &a)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := "TikTok answered: " + string(data)
		if jsonErr == nil && a.Message != "" {
			msg = describe(a)
		}
		return "", forward.ClassifyHTTP(resp, forward.Truncate(msg, maxMessage))
	}
	if jsonErr != nil || a.Code == nil {
		return "", &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "TikTok's answer has no code: " + forward.Truncate(string(data), maxMessage)}
	}
	if *a.Code != 0 {
		return "", &forward.Error{Kind: classifyCode(*a.Code), Status: resp.StatusCode, Message: forward.Truncate(describe(a), maxMessage)}
	}
	return a.RequestID, nil
}

// classifyCode classifies a non-zero TikTok return code.
func classifyCode(code int) forward.Kind {
	switch {
	case code == 40001 || code == 40102 || code == 40104 || code == 40105:
		return forward.Auth
	case code == 40100 || (code >= 50000 && code < 60000):
		return forward.Transient
	}
	return forward.Permanent
}

func describe(a answer) string {
	code := 0
	if a.Code != nil {
		code = *a.Code
	}
	return fmt.Sprintf("TikTok: %s (code %d, request_id %s)", a.Message, code, a.RequestID)
}
