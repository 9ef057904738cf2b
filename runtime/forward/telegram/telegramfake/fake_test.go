package telegramfake_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/forward/telegram/telegramfake"
)

type reply struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Result      struct {
		MessageID int64 `json:"message_id"`
	} `json:"result"`
	Parameters struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func call(t *testing.T, f *telegramfake.Fake, path, ctype, body string) reply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, req)
	var r reply
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if r.OK != (rec.Code == 200) || (!r.OK && r.ErrorCode != rec.Code) {
		t.Errorf("status %d does not match the body %+v", rec.Code, r)
	}
	return r
}

func TestFakeRefusesWhatTelegramRefuses(t *testing.T) {
	const ok = "/bot1:tok/sendMessage"
	tests := []struct {
		name, path, ctype, body string
		code                    int
		says                    string
	}{
		{"wrong token", "/bot1:other/sendMessage", "application/json", `{"chat_id":"42","text":"hi"}`, 401, "Unauthorized"},
		{"unknown method", "/bot1:tok/sendMessages", "application/json", `{"chat_id":"42","text":"hi"}`, 404, "Not Found"},
		{"empty text", ok, "application/json", `{"chat_id":"42","text":"  "}`, 400, "text is empty"},
		{"no text", ok, "application/json", `{"chat_id":"42"}`, 400, "text is empty"},
		{"4097 characters", ok, "application/json", `{"chat_id":"42","text":"` + strings.Repeat("a", 4097) + `"}`, 400, "too long"},
		{"2049 emoji", ok, "application/json", `{"chat_id":"42","text":"` + strings.Repeat("😀", 2049) + `"}`, 400, "too long"},
		{"no chat", ok, "application/json", `{"text":"hi"}`, 400, "chat_id is empty"},
		{"unknown chat", ok, "application/json", `{"chat_id":"43","text":"hi"}`, 400, "chat not found"},
		{"misspelt field", ok, "application/json", `{"chat_id":"42","txt":"hi"}`, 400, "unknown field"},
		{"bad parse_mode", ok, "application/json", `{"chat_id":"42","text":"hi","parse_mode":"markdown2"}`, 400, "parse_mode"},
		{"not JSON", ok, "text/plain", `chat_id=42&text=hi`, 400, "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := telegramfake.New("1:tok", "42")
			r := call(t, f, tt.path, tt.ctype, tt.body)
			if r.OK || r.ErrorCode != tt.code || !strings.Contains(r.Description, tt.says) {
				t.Errorf("answer %+v, want %d saying %q", r, tt.code, tt.says)
			}
			if len(f.Messages()) != 0 {
				t.Error("a refused message was recorded")
			}
		})
	}
}

func TestFakeAcceptsAndThrottles(t *testing.T) {
	f := telegramfake.New("1:tok", "42", "@shopalerts")
	f.Throttle(1, 9)
	r := call(t, f, "/bot1:tok/sendMessage", "application/json", `{"chat_id":42,"text":"hi"}`)
	if r.OK || r.ErrorCode != 429 || r.Parameters.RetryAfter != 9 {
		t.Errorf("throttled answer %+v", r)
	}
	for i, chat := range []string{`42`, `"@shopalerts"`} {
		r = call(t, f, "/bot1:tok/sendMessage", "application/json", `{"chat_id":`+chat+`,"text":"hi","link_preview_options":{"is_disabled":true}}`)
		if !r.OK || r.Result.MessageID != int64(i+1) {
			t.Errorf("answer %+v, want ok with message id %d", r, i+1)
		}
	}
	if len(f.Messages()) != 2 || f.Requests() != 3 {
		t.Errorf("messages %d requests %d", len(f.Messages()), f.Requests())
	}
}
