package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/telegram"
	"github.com/trackstack/trackstack/runtime/forward/telegram/telegramfake"
)

const (
	token = "123456789:AAH-secret_token_value"
	chat  = "-1001234567890"
)

func newPlatform(t *testing.T, endpoint string) *telegram.Platform {
	t.Helper()
	d := config.Destination{Name: "tg", Type: v1alpha1.DestinationTelegram,
		Telegram: &v1alpha1.TelegramDestination{Endpoint: v1alpha1.Endpoint{Endpoint: endpoint}, ChatID: chat}}
	p, err := telegram.New(d, forward.Credentials{"botToken": token}, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func sale() forward.Item {
	v := 129.9
	return forward.Item{Name: "New sale", Event: event.Event{
		Site: "shop", EventID: "e1", Name: "purchase", Value: &v, Currency: "EUR", OrderID: "1001",
		URL: "https://shop.example.com/checkout", Channel: event.ChannelPaidSearch,
		UTM: event.UTM{Source: "google", Medium: "cpc", Campaign: "black-friday"},
	}}
}

func TestSendPostsTheAlert(t *testing.T) {
	fake := telegramfake.New(token, chat)
	p := newPlatform(t, serve(t, fake).URL)
	out, err := p.Send(context.Background(), []forward.Item{sale()})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Status != forward.Sent || out[0].ResponseID != "1" {
		t.Errorf("outcome %+v, want Sent with message id 1", out[0])
	}
	msgs := fake.Messages()
	want := "💰 New sale: 129.90 EUR\nSource: google / cpc · Campaign: black-friday\nPage: https://shop.example.com/checkout\nOrder 1001"
	if len(msgs) != 1 || msgs[0].Text != want || msgs[0].ChatID != chat || msgs[0].ParseMode != "" {
		t.Errorf("messages = %+v, want one plain-text %q to %s", msgs, want, chat)
	}
}

func TestText(t *testing.T) {
	yen := 12000.0
	tests := []struct {
		name   string
		modify func(*forward.Item)
		want   string
	}{
		{"no value, no source", func(it *forward.Item) {
			it.Name, it.Event.Value, it.Event.UTM, it.Event.Channel, it.Event.URL, it.Event.OrderID = "New lead", nil, event.UTM{}, "", "", ""
		}, "🔔 New lead"},
		{"channel stands in for utm", func(it *forward.Item) {
			it.Event.UTM, it.Event.URL, it.Event.OrderID = event.UTM{}, "", ""
			it.Event.Channel = event.ChannelDirect
		}, "💰 New sale: 129.90 EUR\nSource: direct"},
		{"zero-decimal currency", func(it *forward.Item) {
			it.Event.Value, it.Event.Currency, it.Event.UTM, it.Event.Channel, it.Event.URL, it.Event.OrderID = &yen, "jpy", event.UTM{}, "", "", ""
		}, "💰 New sale: 12000 JPY"},
		{"markup characters stay as they are", func(it *forward.Item) {
			it.Event.UTM = event.UTM{Source: "<b>news*letter_", Campaign: "[x](y)"}
			it.Event.URL, it.Event.OrderID = "", ""
		}, "💰 New sale: 129.90 EUR\nSource: <b>news*letter_ · Campaign: [x](y)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := sale()
			tt.modify(&it)
			if got := telegram.Text(it); got != tt.want {
				t.Errorf("Text = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLongTextIsCutToTelegramsLimit(t *testing.T) {
	fake := telegramfake.New(token, chat)
	p := newPlatform(t, serve(t, fake).URL)
	it := sale()
	it.Event.URL = "https://shop.example.com/" + strings.Repeat("😀", 3000) // 2 UTF-16 units each
	if _, err := p.Send(context.Background(), []forward.Item{it}); err != nil {
		t.Fatal(err)
	}
	text := fake.Messages()[0].Text
	if n := len(utf16.Encode([]rune(text))); n > telegram.MaxTextLen || n < telegram.MaxTextLen-1 || !strings.HasSuffix(text, "…") {
		t.Errorf("text of %d UTF-16 units, want cut to %d with …", n, telegram.MaxTextLen)
	}
}

func TestSendClassifiesTelegramsAnswers(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*telegramfake.Fake)
		token      string
		kind       forward.Kind
		status     int
		retryAfter time.Duration
		says       string
	}{
		{"429 retry_after", func(f *telegramfake.Fake) { f.Throttle(1, 7) }, token, forward.Transient, 429, 7 * time.Second, "Too Many Requests"},
		{"500", func(f *telegramfake.Fake) { f.FailNext(1, 500) }, token, forward.Transient, 500, 0, "Internal Server Error"},
		{"invalid token", func(*telegramfake.Fake) {}, "999:other-token", forward.Auth, 401, 0, "Unauthorized"},
		{"bot blocked", func(f *telegramfake.Fake) { f.Block(chat) }, token, forward.Permanent, 403, 0, "blocked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := telegramfake.New(tt.token, chat)
			tt.setup(fake)
			p := newPlatform(t, serve(t, fake).URL)
			_, err := p.Send(context.Background(), []forward.Item{sale()})
			var fe *forward.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *forward.Error", err)
			}
			if fe.Kind != tt.kind || fe.Status != tt.status || fe.RetryAfter != tt.retryAfter || !strings.Contains(fe.Message, tt.says) {
				t.Errorf("got %v %d after %s %q; want %v %d after %s saying %q", fe.Kind, fe.Status, fe.RetryAfter, fe.Message, tt.kind, tt.status, tt.retryAfter, tt.says)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error carries the token: %v", err)
			}
		})
	}
}

func TestChatNotFoundIsPermanent(t *testing.T) {
	fake := telegramfake.New(token, "-100999")
	p := newPlatform(t, serve(t, fake).URL)
	_, err := p.Send(context.Background(), []forward.Item{sale()})
	if fe := forward.AsError(err); err == nil || fe.Kind != forward.Permanent || !strings.Contains(fe.Message, "chat not found") {
		t.Errorf("err = %v, want permanent chat not found", err)
	}
}

func TestSeveralItemsGetOneOutcomeEach(t *testing.T) {
	fake := telegramfake.New(token, chat)
	p := newPlatform(t, serve(t, fake).URL)
	fake.Throttle(1, 3)
	out, err := p.Send(context.Background(), []forward.Item{sale(), sale()})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Status != forward.Retry || out[0].RetryAfter != 3*time.Second || out[1].Status != forward.Sent {
		t.Errorf("outcomes %+v, want Retry after 3s then Sent", out)
	}
}

func TestConnectionErrorsKeepTheTokenOut(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	p := newPlatform(t, srv.URL)
	_, err := p.Send(context.Background(), []forward.Item{sale()})
	if fe := forward.AsError(err); err == nil || fe.Kind != forward.Transient {
		t.Fatalf("err = %v, want transient", err)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "AAH-secret") {
		t.Errorf("error carries the token: %v", err)
	}
}

func TestNewRejectsIncompleteSettings(t *testing.T) {
	block := &v1alpha1.TelegramDestination{ChatID: chat}
	tests := []struct {
		name  string
		d     config.Destination
		creds forward.Credentials
		want  string
	}{
		{"no block", config.Destination{}, forward.Credentials{"botToken": token}, "settings block"},
		{"no chat", config.Destination{Telegram: &v1alpha1.TelegramDestination{}}, forward.Credentials{"botToken": token}, "chatID"},
		{"no token", config.Destination{Telegram: block}, nil, `"botToken"`},
		{"token with a slash", config.Destination{Telegram: block}, forward.Credentials{"botToken": "1:a/b"}, "botToken holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := telegram.New(tt.d, tt.creds, &http.Client{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestConcurrentSends(t *testing.T) {
	fake := telegramfake.New(token, chat)
	p := newPlatform(t, serve(t, fake).URL)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := p.Send(context.Background(), []forward.Item{sale()})
			errs <- err
		}()
	}
	ids := map[int64]bool{}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, m := range fake.Messages() {
		ids[m.MessageID] = true
	}
	if len(ids) != 8 {
		t.Errorf("%d distinct messages, want 8", len(ids))
	}
}
