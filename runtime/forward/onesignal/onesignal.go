package onesignal

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
)

// DefaultBase is OneSignal's API host.
const DefaultBase = "https://api.onesignal.com"

// CredentialAPIKey is the credential key of the App API key.
const CredentialAPIKey = "apiKey"

// Segment is the audience of every alert: see the package doc.
const Segment = "Total Subscriptions"

const maxMessage = 300

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Platform sends one push notification per event to one app.
type Platform struct {
	client *http.Client
	url    string
	appID  string
	apiKey string
}

// New checks the onesignal settings block and the apiKey credential.
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	block := d.OneSignal
	if block == nil {
		return nil, errors.New("onesignal: the onesignal settings block is missing")
	}
	if !uuidPattern.MatchString(block.AppID) {
		return nil, fmt.Errorf("onesignal: appID %q is not a lowercase UUID", block.AppID)
	}
	if err := creds.Require(CredentialAPIKey); err != nil {
		return nil, fmt.Errorf("onesignal: %w", err)
	}
	if client == nil {
		return nil, errors.New("onesignal: no HTTP client")
	}
	u, err := forward.Endpoint(DefaultBase, block.Endpoint.Endpoint, "/notifications")
	if err != nil {
		return nil, fmt.Errorf("onesignal: %w", err)
	}
	return &Platform{client: client, url: u, appID: block.AppID, apiKey: creds[CredentialAPIKey]}, nil
}

// MaxBatch is 1: one notification per event.
func (p *Platform) MaxBatch() int { return 1 }

// DefaultEvents alerts on purchases, headed "New sale".
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{"purchase": "New sale"}
}

type notification struct {
	AppID            string            `json:"app_id"`
	TargetChannel    string            `json:"target_channel"`
	IncludedSegments []string          `json:"included_segments"`
	Headings         map[string]string `json:"headings"`
	Contents         map[string]string `json:"contents"`
	IdempotencyKey   string            `json:"idempotency_key"`
}

type answer struct {
	ID     string          `json:"id"`
	Errors json.RawMessage `json:"errors"`
}

// Send sends each item as its own notification. With one item (MaxBatch)
// a failure is returned as the batch's error.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	out := make([]forward.Outcome, len(items))
	for i, it := range items {
		o, ferr := p.send(ctx, it)
		if ferr == nil {
			out[i] = o
			continue
		}
		if len(items) == 1 {
			return nil, ferr
		}
		out[i] = forward.Outcome{Status: forward.Retry, Reason: ferr.Error(), RetryAfter: ferr.RetryAfter}
		if ferr.Kind == forward.Permanent {
			out[i] = forward.Outcome{Status: forward.Failed, Reason: ferr.Error()}
		}
	}
	return out, nil
}

func (p *Platform) send(ctx context.Context, it forward.Item) (forward.Outcome, *forward.Error) {
	heading, content := Texts(it)
	body, err := json.Marshal(notification{
		AppID: p.appID, TargetChannel: "push", IncludedSegments: []string{Segment},
		Headings: map[string]string{"en": heading}, Contents: map[string]string{"en": content},
		IdempotencyKey: IdempotencyKey(it.Event.Site, it.Event.EventID),
	})
	if err != nil {
		return forward.Outcome{}, &forward.Error{Kind: forward.Permanent, Message: "while encoding the notification: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return forward.Outcome{}, &forward.Error{Kind: forward.Permanent, Message: p.redact(forward.WithoutURL(err))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Key "+p.apiKey)
	resp, err := p.client.Do(req)
	if err != nil {
		return forward.Outcome{}, &forward.Error{Kind: forward.Transient, Message: p.redact(forward.WithoutURL(err))}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var a answer
	jsonErr := json.Unmarshal(raw, &a)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := errorText(a.Errors)
		if msg == "" {
			msg = strings.TrimSpace(string(raw))
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return forward.Outcome{}, forward.ClassifyHTTP(resp, forward.Truncate(p.redact(msg), maxMessage))
	}
	return p.outcome(a, jsonErr), nil
}

// outcome reads a 2xx answer: see the package doc.
func (p *Platform) outcome(a answer, jsonErr error) forward.Outcome {
	if jsonErr != nil {
		return forward.Outcome{Status: forward.Retry, Reason: "unreadable answer from OneSignal"}
	}
	if a.ID != "" {
		return forward.Outcome{Status: forward.Sent, ResponseID: a.ID}
	}
	if msg := errorText(a.Errors); msg != "" {
		return forward.Outcome{Status: forward.Failed, Reason: forward.Truncate(p.redact("OneSignal sent nothing: "+msg), maxMessage)}
	}
	return forward.Outcome{Status: forward.Retry, Reason: "OneSignal answered without a notification id or errors"}
}

// errorText flattens OneSignal's errors, a list of strings or an object of
// lists (invalid_aliases, invalid_player_ids, ...).
func errorText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, "; ")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		parts := make([]string, 0, len(obj))
		for k, v := range obj {
			parts = append(parts, k+": "+string(v))
		}
		return strings.Join(parts, "; ")
	}
	return string(raw)
}

// IdempotencyKey is a UUID (version 5 layout: SHA-1, variant RFC 4122)
// derived from the site and the event id: the same event always gets the
// same key.
func IdempotencyKey(site, eventID string) string {
	sum := sha1.Sum([]byte("trackstack/onesignal\x00" + site + "\x00" + eventID))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Texts returns the notification's heading and content for an item.
func Texts(it forward.Item) (heading, content string) {
	ev := it.Event
	heading = strings.TrimSpace(it.Name)
	if heading == "" {
		heading = ev.Name
	}
	if ev.Value != nil {
		heading = "💰 " + heading
	}
	var first []string
	if ev.Value != nil {
		first = append(first, strings.TrimSpace(strconv.FormatFloat(*ev.Value, 'f', 2, 64)+" "+strings.ToUpper(ev.Currency)))
	}
	first = append(first, source(ev)...)
	lines := []string{strings.Join(first, " · ")}
	if ev.OrderID != "" {
		lines = append(lines, "Order "+ev.OrderID)
	}
	content = strings.TrimSpace(strings.Join(lines, "\n"))
	if content == "" {
		content = heading // OneSignal requires English content
	}
	return heading, content
}

func source(ev event.Event) []string {
	var parts []string
	switch {
	case ev.UTM.Source != "" && ev.UTM.Medium != "":
		parts = append(parts, ev.UTM.Source+" / "+ev.UTM.Medium)
	case ev.UTM.Source != "":
		parts = append(parts, ev.UTM.Source)
	case ev.Channel != "":
		parts = append(parts, ev.Channel)
	}
	if ev.UTM.Campaign != "" {
		parts = append(parts, ev.UTM.Campaign)
	}
	return parts
}

func (p *Platform) redact(s string) string {
	return forward.Redact(s, p.apiKey)
}

var (
	_ forward.Platform  = (*Platform)(nil)
	_ forward.Defaulter = (*Platform)(nil)
)
