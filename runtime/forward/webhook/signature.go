package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the request's timestamp and signature.
const SignatureHeader = "X-Trackstack-Signature"

// Errors of Verify.
var (
	ErrNoSignature   = errors.New("webhook: no signature header")
	ErrMalformed     = errors.New("webhook: malformed signature header")
	ErrBadSignature  = errors.New("webhook: signature does not match the body")
	ErrOutsideWindow = errors.New("webhook: signature timestamp outside the tolerance")
)

// Sign returns the signature header value for body at time t.
func Sign(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against the raw body: one of its v1
// signatures must be the HMAC of "<t>.<body>" under secret, and t must be
// within tolerance of now either way, so an old request cannot be replayed.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformed
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrMalformed
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %s from now", ErrOutsideWindow, d.Round(time.Second))
	}
	want := []byte(mac(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(strings.ToLower(s)), want) {
			return nil
		}
	}
	return ErrBadSignature
}
