package pinterest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
)

// Platform facts.
const (
	// DefaultBase is the Pinterest API's base URL.
	DefaultBase = "https://api.pinterest.com"
	// MaxEvents is the most events one request may carry.
	MaxEvents = 1000
	// maxMessage bounds the platform text kept in errors and reasons.
	maxMessage = 512
	// maxResponse bounds how much of an answer is read.
	maxResponse = 4 << 20
)

// Platform sends events to one Pinterest ad account.
type Platform struct {
	client *http.Client
	url    string
	token  string
}

// New returns the Platform for d, which must carry a pinterest block with
// an ad account id; creds must hold accessToken (the conversion token).
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	b := d.Pinterest
	switch {
	case b == nil:
		return nil, fmt.Errorf("destination %q: the pinterest settings block is missing", d.Name)
	case b.AdAccountID == "":
		return nil, fmt.Errorf("destination %q: pinterest.adAccountID is empty", d.Name)
	case client == nil:
		return nil, fmt.Errorf("destination %q: no HTTP client", d.Name)
	}
	if err := creds.Require("accessToken"); err != nil {
		return nil, fmt.Errorf("destination %q: %w", d.Name, err)
	}
	u, err := forward.Endpoint(DefaultBase, b.Endpoint.Endpoint, "/v5/ad_accounts/"+url.PathEscape(b.AdAccountID)+"/events")
	if err != nil {
		return nil, fmt.Errorf("destination %q: pinterest: %w", d.Name, err)
	}
	if b.Test {
		u += "?test=true"
	}
	return &Platform{client: client, url: u, token: creds["accessToken"]}, nil
}

// MaxBatch is Pinterest's limit of events per request.
func (p *Platform) MaxBatch() int { return MaxEvents }

// DefaultEvents maps trackstack's event names to Pinterest's. Plain page
// views are left out (see the package doc).
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{
		"purchase":      "checkout",
		"add_to_cart":   "add_to_cart",
		"lead":          "lead",
		"signup":        "signup",
		"search":        "search",
		"view_item":     "page_visit",
		"view_category": "view_category",
		"watch_video":   "watch_video",
	}
}

// answer is Pinterest's reply to a request it read: per-event statuses
// (200, 422), or an error object.
type answer struct {
	Events []struct {
		Status         string `json:"status"`
		ErrorMessage   string `json:"error_message"`
		WarningMessage string `json:"warning_message"`
	} `json:"events"`
	Code    *int   `json:"code"`
	Message string `json:"message"`
}

// Send posts the items Pinterest can accept and maps its per-event answer.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	out := make([]forward.Outcome, len(items))
	var data []serverEvent
	var sent []int
	for i, it := range items {
		if reason := rejectReason(it); reason != "" {
			out[i] = forward.Outcome{Status: forward.Failed, Reason: reason}
			continue
		}
		data = append(data, buildEvent(it))
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return out, nil
	}
	a, rid, err := p.post(ctx, data)
	if err != nil {
		return nil, p.redact(err)
	}
	for j, i := range sent {
		ev := a.Events[j]
		if ev.Status == "processed" {
			out[i] = forward.Outcome{Status: forward.Sent, ResponseID: rid}
			continue
		}
		reason := ev.ErrorMessage
		if reason == "" {
			reason = "status " + ev.Status
		}
		out[i] = forward.Outcome{Status: forward.Failed, ResponseID: rid, Reason: p.scrub(forward.Truncate("Pinterest: "+reason, maxMessage))}
	}
	return out, nil
}

// post sends one request; it returns the per-event answer, which lists
// exactly one status per sent event, and the request id.
func (p *Platform) post(ctx context.Context, data []serverEvent) (*answer, string, error) {
	raw, err := json.Marshal(map[string][]serverEvent{"data": data})
	if err != nil {
		return nil, "", fmt.Errorf("while encoding the pinterest request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(raw))
	if err != nil {
		return nil, "", fmt.Errorf("while building the pinterest request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, "", forward.TransportError("Pinterest", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, "", &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "while reading Pinterest's answer: " + err.Error()}
	}
	rid := resp.Header.Get("x-pinterest-rid")
	var a answer
	jsonErr := json.Unmarshal(body, &a)
	perEvent := resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnprocessableEntity
	switch {
	case perEvent && jsonErr == nil && len(a.Events) == len(data):
		return &a, rid, nil
	case perEvent && jsonErr == nil && len(a.Events) > 0:
		return nil, "", &forward.Error{Kind: forward.Transient, Status: resp.StatusCode,
			Message: fmt.Sprintf("Pinterest answered %d event statuses for %d events sent", len(a.Events), len(data))}
	case resp.StatusCode == http.StatusOK:
		return nil, "", &forward.Error{Kind: forward.Transient, Status: resp.StatusCode, Message: "Pinterest's answer lists no event statuses: " + forward.Truncate(string(body), maxMessage)}
	}
	msg := "Pinterest answered: " + string(body)
	if jsonErr == nil && a.Message != "" {
		code := 0
		if a.Code != nil {
			code = *a.Code
		}
		msg = fmt.Sprintf("Pinterest: %s (code %d)", a.Message, code)
	}
	return nil, "", forward.ClassifyHTTP(resp, forward.Truncate(msg, maxMessage))
}

// scrub removes the token from a text, should an answer ever echo it.
func (p *Platform) scrub(s string) string { return strings.ReplaceAll(s, p.token, "[redacted]") }

func (p *Platform) redact(err error) error {
	var fe *forward.Error
	if errors.As(err, &fe) {
		fe.Message = p.scrub(fe.Message)
		return fe
	}
	if strings.Contains(err.Error(), p.token) {
		return errors.New(p.scrub(err.Error()))
	}
	return err
}
