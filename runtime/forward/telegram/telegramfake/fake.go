// Package telegramfake is a strict local stand-in for the Telegram Bot
// API's sendMessage, for tests of the telegram adapter and of the engine.
// It answers as Telegram does: {ok, result{message_id}} or {ok:false,
// error_code, description, parameters{retry_after}}.
package telegramfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"unicode/utf16"
)

// MaxTextLen is Telegram's bound on a message text, in UTF-16 code units.
const MaxTextLen = 4096

// Message is one message the fake accepted.
type Message struct {
	MessageID int64
	ChatID    string
	Text      string
	ParseMode string
}

// Fake serves POST /bot<token>/sendMessage for one token and a set of
// chats the bot belongs to. It is safe for concurrent use.
type Fake struct {
	token string
	chats map[string]bool

	mu       sync.Mutex
	requests int
	nextID   int64
	messages []Message
	blocked  map[string]bool
	throttle []int // retry_after of the next 429s
	failures []int // statuses of the next failures
}

// New returns a fake for token whose bot is a member of chats.
func New(token string, chats ...string) *Fake {
	f := &Fake{token: token, chats: map[string]bool{}, blocked: map[string]bool{}, nextID: 1}
	for _, c := range chats {
		f.chats[c] = true
	}
	return f
}

// Throttle makes the next n sendMessage calls answer 429 with
// parameters.retry_after = retryAfter seconds.
func (f *Fake) Throttle(n, retryAfter int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.throttle = append(f.throttle, retryAfter)
	}
}

// FailNext makes the next n calls answer status (e.g. 500, 502).
func (f *Fake) FailNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures = append(f.failures, status)
	}
}

// Block makes chat refuse the bot, as when a user blocks it or a group
// kicks it: 403.
func (f *Fake) Block(chat string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocked[chat] = true
}

// Messages returns the accepted messages, in order.
func (f *Fake) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.messages...)
}

// Requests counts every request received.
func (f *Fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

type apiError struct {
	status      int
	description string
	retryAfter  int
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	f.mu.Unlock()
	m, e := f.handle(r)
	if e != nil {
		writeError(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": map[string]any{
		"message_id": m.MessageID, "chat": map[string]any{"id": m.ChatID}, "text": m.Text}})
}

func (f *Fake) handle(r *http.Request) (Message, *apiError) {
	token, method, ok := splitPath(r.URL.Path)
	switch {
	case !ok:
		return Message{}, &apiError{status: 404, description: "Not Found"}
	case token != f.token:
		return Message{}, &apiError{status: 401, description: "Unauthorized"}
	case method != "sendMessage":
		return Message{}, &apiError{status: 404, description: "Not Found: method not found"}
	case r.Method != http.MethodPost:
		return Message{}, &apiError{status: 400, description: "Bad Request: this fake takes sendMessage as a JSON POST only"}
	}
	if e := f.injected(); e != nil {
		return Message{}, e
	}
	m, e := decode(r)
	if e != nil {
		return Message{}, e
	}
	return f.deliver(m)
}

func splitPath(path string) (token, method string, ok bool) {
	rest, found := strings.CutPrefix(path, "/bot")
	if !found {
		return "", "", false
	}
	token, method, ok = strings.Cut(rest, "/")
	return token, method, ok && token != ""
}

func (f *Fake) injected() *apiError {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.throttle) > 0 {
		s := f.throttle[0]
		f.throttle = f.throttle[1:]
		return &apiError{status: 429, description: fmt.Sprintf("Too Many Requests: retry after %d", s), retryAfter: s}
	}
	if len(f.failures) > 0 {
		s := f.failures[0]
		f.failures = f.failures[1:]
		return &apiError{status: s, description: http.StatusText(s)}
	}
	return nil
}

// request is sendMessage's body; fields Telegram knows but the fake does
// not check are accepted, any other is refused to catch misspellings.
type request struct {
	ChatID              json.RawMessage `json:"chat_id"`
	Text                *string         `json:"text"`
	ParseMode           string          `json:"parse_mode"`
	LinkPreviewOptions  json.RawMessage `json:"link_preview_options"`
	DisableNotification bool            `json:"disable_notification"`
	ProtectContent      bool            `json:"protect_content"`
	MessageThreadID     int64           `json:"message_thread_id"`
	Entities            json.RawMessage `json:"entities"`
	ReplyParameters     json.RawMessage `json:"reply_parameters"`
	ReplyMarkup         json.RawMessage `json:"reply_markup"`
}

func decode(r *http.Request) (Message, *apiError) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return Message{}, &apiError{status: 400, description: "Bad Request: this fake takes a JSON body only"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return Message{}, &apiError{status: 400, description: "Bad Request: unreadable body"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req request
	if err := dec.Decode(&req); err != nil {
		return Message{}, &apiError{status: 400, description: "Bad Request: " + err.Error()}
	}
	chat, e := chatID(req.ChatID)
	if e != nil {
		return Message{}, e
	}
	switch {
	case req.Text == nil || strings.TrimSpace(*req.Text) == "":
		return Message{}, &apiError{status: 400, description: "Bad Request: message text is empty"}
	case len(utf16.Encode([]rune(*req.Text))) > MaxTextLen:
		return Message{}, &apiError{status: 400, description: "Bad Request: message is too long"}
	}
	switch req.ParseMode {
	case "", "MarkdownV2", "HTML", "Markdown":
	default:
		return Message{}, &apiError{status: 400, description: "Bad Request: unsupported parse_mode"}
	}
	return Message{ChatID: chat, Text: *req.Text, ParseMode: req.ParseMode}, nil
}

// chatID accepts a number or a string, as Telegram does.
func chatID(raw json.RawMessage) (string, *apiError) {
	if len(raw) == 0 {
		return "", &apiError{status: 400, description: "Bad Request: chat_id is empty"}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), nil
	}
	return "", &apiError{status: 400, description: "Bad Request: chat_id is invalid"}
}

func (f *Fake) deliver(m Message) (Message, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.blocked[m.ChatID]:
		return Message{}, &apiError{status: 403, description: "Forbidden: bot was blocked by the user"}
	case !f.chats[m.ChatID]:
		return Message{}, &apiError{status: 400, description: "Bad Request: chat not found"}
	}
	m.MessageID = f.nextID
	f.nextID++
	f.messages = append(f.messages, m)
	return m, nil
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"ok": false, "error_code": e.status, "description": e.description}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}
