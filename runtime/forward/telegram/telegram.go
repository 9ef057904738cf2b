package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
)

// DefaultBase is the Bot API's host.
const DefaultBase = "https://api.telegram.org"

// CredentialBotToken is the credential key of the bot token.
const CredentialBotToken = "botToken"

const maxMessage = 300

// Platform sends one message per event to one chat.
type Platform struct {
	client *http.Client
	url    string // carries the token: never in errors
	token  string
	chatID string
}

// New checks the telegram settings block and the botToken credential.
func New(d config.Destination, creds forward.Credentials, client *http.Client) (*Platform, error) {
	if d.Telegram == nil {
		return nil, errors.New("telegram: the telegram settings block is missing")
	}
	if d.Telegram.ChatID == "" {
		return nil, errors.New("telegram: chatID is empty")
	}
	if err := creds.Require(CredentialBotToken); err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	if client == nil {
		return nil, errors.New("telegram: no HTTP client")
	}
	token := creds[CredentialBotToken]
	if strings.ContainsAny(token, "/?# ") {
		return nil, errors.New("telegram: botToken holds characters a token never has")
	}
	u, err := forward.Endpoint(DefaultBase, d.Telegram.Endpoint.Endpoint, "/bot"+token+"/sendMessage")
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return &Platform{client: client, url: u, token: token, chatID: d.Telegram.ChatID}, nil
}

// MaxBatch is 1: one message per event.
func (p *Platform) MaxBatch() int { return 1 }

// DefaultEvents alerts on purchases, headed "New sale".
func (p *Platform) DefaultEvents() map[string]string {
	return map[string]string{"purchase": "New sale"}
}

type sendMessage struct {
	ChatID             string       `json:"chat_id"`
	Text               string       `json:"text"`
	LinkPreviewOptions *linkPreview `json:"link_preview_options,omitempty"`
}

type linkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

// answer is the Bot API's reply to every call.
type answer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Result      struct {
		MessageID int64 `json:"message_id"`
	} `json:"result"`
	Parameters struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// Send sends each item as its own message. With one item (MaxBatch) a
// failure is returned as the batch's error.
func (p *Platform) Send(ctx context.Context, items []forward.Item) ([]forward.Outcome, error) {
	out := make([]forward.Outcome, len(items))
	for i, it := range items {
		id, ferr := p.send(ctx, it)
		if ferr == nil {
			out[i] = forward.Outcome{Status: forward.Sent, ResponseID: strconv.FormatInt(id, 10)}
			continue
		}
		if len(items) == 1 {
			return nil, ferr
		}
		out[i] = outcomeOf(ferr)
	}
	return out, nil
}

func outcomeOf(e *forward.Error) forward.Outcome {
	if e.Kind == forward.Permanent {
		return forward.Outcome{Status: forward.Failed, Reason: e.Error()}
	}
	return forward.Outcome{Status: forward.Retry, Reason: e.Error(), RetryAfter: e.RetryAfter}
}

func (p *Platform) send(ctx context.Context, it forward.Item) (int64, *forward.Error) {
	body, err := json.Marshal(sendMessage{ChatID: p.chatID, Text: Text(it), LinkPreviewOptions: &linkPreview{IsDisabled: true}})
	if err != nil {
		return 0, &forward.Error{Kind: forward.Permanent, Message: "while encoding the message: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, &forward.Error{Kind: forward.Permanent, Message: p.redact(forward.WithoutURL(err))}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, &forward.Error{Kind: forward.Transient, Message: p.redact(forward.WithoutURL(err))}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var a answer
	jsonErr := json.Unmarshal(raw, &a)
	if resp.StatusCode == http.StatusOK && jsonErr == nil && a.OK {
		return a.Result.MessageID, nil
	}
	return 0, p.classify(resp, a, raw)
}

// classify maps a failed call: see the package doc for why 403 is permanent.
func (p *Platform) classify(resp *http.Response, a answer, raw []byte) *forward.Error {
	msg := a.Description
	if msg == "" {
		msg = strings.TrimSpace(string(raw))
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	if id := a.Parameters.MigrateToChatID; id != 0 {
		msg += fmt.Sprintf(" (the group is now chat %d: set chatID to it)", id)
	}
	msg = forward.Truncate(p.redact(msg), maxMessage)
	e := forward.ClassifyHTTP(resp, msg)
	switch {
	case resp.StatusCode == http.StatusForbidden:
		e.Kind = forward.Permanent
	case resp.StatusCode == http.StatusOK:
		// ok:false or an unreadable body with 200: not a Bot API answer.
		e.Kind = forward.Transient
	}
	if a.Parameters.RetryAfter > 0 {
		e.RetryAfter = time.Duration(a.Parameters.RetryAfter) * time.Second
	}
	return e
}

func (p *Platform) redact(s string) string {
	return forward.Redact(s, p.token)
}

var (
	_ forward.Platform  = (*Platform)(nil)
	_ forward.Defaulter = (*Platform)(nil)
)
