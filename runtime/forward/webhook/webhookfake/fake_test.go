package webhookfake_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/forward/webhook"
	"github.com/trackstack/trackstack/runtime/forward/webhook/webhookfake"
)

const (
	secret = "s"
	valid  = `{"site":"shop","events":[{"send_as":"p","site":"shop","event_id":"e1","type":"conversion","name":"purchase","source":"server","timestamp":"2026-12-01T10:00:00Z","received_at":"2026-12-01T10:00:00Z","utm":{},"click_ids":null,"consent":{},"device":{},"user":{}}]}`
	key    = "0123456789abcdef0123456789abcdef"
)

func TestFakeRefusesWhatAStrictReceiverRefuses(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name    string
		method  string
		ctype   string
		sig     string
		key     string
		body    string
		status  int
		because string
	}{
		{"valid", "POST", "application/json", webhook.Sign(secret, []byte(valid), now), key, valid, http.StatusNoContent, ""},
		{"no signature", "POST", "application/json", "", key, valid, http.StatusUnauthorized, "no signature"},
		{"wrong secret", "POST", "application/json", webhook.Sign("x", []byte(valid), now), key, valid, http.StatusUnauthorized, "does not match"},
		{"replay", "POST", "application/json", webhook.Sign(secret, []byte(valid), now.Add(-time.Hour)), key, valid, http.StatusUnauthorized, "tolerance"},
		{"GET", "GET", "application/json", webhook.Sign(secret, []byte(valid), now), key, valid, http.StatusMethodNotAllowed, "POST"},
		{"form body", "POST", "text/plain", webhook.Sign(secret, []byte(valid), now), key, valid, http.StatusUnsupportedMediaType, "content type"},
		{"no idempotency key", "POST", "application/json", webhook.Sign(secret, []byte(valid), now), "", valid, http.StatusBadRequest, "Idempotency-Key"},
		{"unknown field", "POST", "application/json", webhook.Sign(secret, []byte(`{"site":"shop","events":[],"x":1}`), now), key, `{"site":"shop","events":[],"x":1}`, http.StatusBadRequest, "unknown field"},
		{"no events", "POST", "application/json", webhook.Sign(secret, []byte(`{"site":"shop","events":[]}`), now), key, `{"site":"shop","events":[]}`, http.StatusUnprocessableEntity, "required"},
		{"other site", "POST", "application/json", webhook.Sign(secret, []byte(strings.Replace(valid, `"site":"shop"`, `"site":"blog"`, 1)), now), key, strings.Replace(valid, `"site":"shop"`, `"site":"blog"`, 1), http.StatusUnprocessableEntity, "site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := webhookfake.New(secret)
			req := httptest.NewRequest(tt.method, "/hook", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			req.Header.Set(webhook.SignatureHeader, tt.sig)
			req.Header.Set("Idempotency-Key", tt.key)
			rec := httptest.NewRecorder()
			f.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tt.status)
			}
			if tt.because == "" {
				if len(f.Events()) != 1 {
					t.Errorf("events = %d, want 1", len(f.Events()))
				}
				return
			}
			if r := f.Rejections(); len(r) != 1 || !strings.Contains(r[0], tt.because) || len(f.Events()) != 0 {
				t.Errorf("rejections %v events %d, want one naming %q and nothing accepted", r, len(f.Events()), tt.because)
			}
		})
	}
}
