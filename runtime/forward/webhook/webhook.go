package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
)

// CredentialSecret is the credential key of the HMAC secret.
const CredentialSecret = "secret"

// maxBatch events per POST: see the package doc.
const maxBatch = 100

// maxMessage bounds a receiver's message kept in an error.
const maxMessage = 300

// Payload is the JSON body of a webhook request.
type Payload struct {
	Site   string  `json:"site"`
	Events []Event `json:"events"`
}

// Event is one event of a Payload: the stored event, the name the
// mapping sends it as, and the sale a refund adjusts.
type Event struct {
	SendAs string `json:"send_as"`
	event.Event
	Original *event.Event `json:"original,omitempty"`
}

// Platform posts batches to one URL.
type Platform struct {
	client *http.Client
	url    string
	secret string
	now    func() time.Time
}

// New checks the webhook settings block and the secret credential.
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	if d.Webhook == nil {
		return nil, errors.New("webhook: the webhook settings block is missing")
	}
	if d.Webhook.URL == "" {
		return nil, errors.New("webhook: url is empty")
	}
	u, err := url.Parse(d.Webhook.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may hold a token: name the problem, not the URL.
		return nil, errors.New("webhook: url is not an absolute http(s) URL")
	}
	if err := creds.Require(CredentialSecret); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if client == nil {
		return nil, errors.New("webhook: no HTTP client")
	}
	return &Platform{client: client, url: u.String(), secret: creds[CredentialSecret], now: time.Now}, nil
}

// DefaultEvents sends every conversion (purchases, leads, refunds, ...)
// as "conversion" when the Destination lists no events: a webhook has no
// names of its own, and the receiver reads each event's own name.
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{"*": "conversion"}
}

// MaxBatch is the most events one POST carries.
func (p *Platform) MaxBatch() int { return maxBatch }

// Send posts items as one signed request.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	if len(items) == 0 {
		return nil, nil
	}
	body, err := json.Marshal(payloadOf(items))
	if err != nil {
		return nil, fmt.Errorf("webhook: while encoding the batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, &forward.Error{Kind: forward.Permanent, Message: "while building the request: " + forward.WithoutURL(err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trackstack-webhook/1")
	req.Header.Set(SignatureHeader, Sign(p.secret, body, p.now()))
	req.Header.Set("Idempotency-Key", IdempotencyKey(items))
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, &forward.Error{Kind: forward.Transient, Message: forward.WithoutURL(err)}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(answer))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return nil, forward.ClassifyHTTP(resp, forward.Truncate(p.redact(msg), maxMessage))
	}
	out := make([]forward.Outcome, len(items))
	for i := range out {
		out[i] = forward.Outcome{Status: forward.Sent, ResponseID: resp.Header.Get("X-Request-Id")}
	}
	return out, nil
}

func payloadOf(items []forward.Item) Payload {
	p := Payload{Site: items[0].Event.Site, Events: make([]Event, len(items))}
	for i, it := range items {
		p.Events[i] = Event{SendAs: it.Name, Event: it.Event, Original: it.Original}
	}
	return p
}

// IdempotencyKey is the same for every send of the same events: 32 hex
// digits of the SHA-256 of the site and the event ids.
func IdempotencyKey(items []forward.Item) string {
	h := sha256.New()
	for _, it := range items {
		h.Write([]byte(it.Event.Site))
		h.Write([]byte{0})
		h.Write([]byte(it.Event.EventID))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// redact keeps the secret and the URL out of a receiver's echoed text.
func (p *Platform) redact(s string) string {
	return forward.Redact(s, p.secret, p.url)
}

var _ forward.Platform = (*Platform)(nil)
