package webhook_test

import (
	"errors"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/forward/webhook"
)

// Computed outside Go: printf '%s' '1767225600.{"site":"shop","events":[]}' |
// openssl dgst -sha256 -hmac whsec_test
const (
	vectorSecret = "whsec_test"
	vectorBody   = `{"site":"shop","events":[]}`
	vectorSig    = "b2db85f0caf51865666e83311a9ba4514ae8c34851d57cca55a112e37c73a64e"
)

var vectorTime = time.Unix(1767225600, 0)

func TestSignMatchesAnIndependentHMAC(t *testing.T) {
	got := webhook.Sign(vectorSecret, []byte(vectorBody), vectorTime)
	if want := "t=1767225600,v1=" + vectorSig; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	good := "t=1767225600,v1=" + vectorSig
	tests := []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"valid", vectorSecret, good, vectorBody, vectorTime, nil},
		{"valid within tolerance", vectorSecret, good, vectorBody, vectorTime.Add(4 * time.Minute), nil},
		{"rotation: one of two v1 matches", vectorSecret, "t=1767225600,v1=00ff,v1=" + vectorSig, vectorBody, vectorTime, nil},
		{"wrong secret", "other", good, vectorBody, vectorTime, webhook.ErrBadSignature},
		{"tampered body", vectorSecret, good, `{"site":"shop","events":[{}]}`, vectorTime, webhook.ErrBadSignature},
		{"replayed later", vectorSecret, good, vectorBody, vectorTime.Add(6 * time.Minute), webhook.ErrOutsideWindow},
		{"from the future", vectorSecret, good, vectorBody, vectorTime.Add(-6 * time.Minute), webhook.ErrOutsideWindow},
		{"no header", vectorSecret, "", vectorBody, vectorTime, webhook.ErrNoSignature},
		{"no v1", vectorSecret, "t=1767225600", vectorBody, vectorTime, webhook.ErrMalformed},
		{"no t", vectorSecret, "v1=" + vectorSig, vectorBody, vectorTime, webhook.ErrMalformed},
		{"garbage", vectorSecret, "sha256=abc", vectorBody, vectorTime, webhook.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.header, []byte(tt.body), tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}
