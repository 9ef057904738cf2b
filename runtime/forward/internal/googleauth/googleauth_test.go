package googleauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/internal/googleauth"
)

var creds = forward.Credentials{"clientID": "id", "clientSecret": "s3cr3t-value", "refreshToken": "1//r3fr3sh-value"}

// A token endpoint (or a proxy in front of it) that echoes what it was
// sent must not get the secrets into an error.
func TestTokenErrorsNeverCarrySecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"bad grant ` +
			r.PostForm.Get("refresh_token") + ` for ` + r.PostForm.Get("client_secret") + `"}`))
	}))
	defer srv.Close()
	tokens, err := googleauth.NewTokens(creds, srv.URL+"/token", "scope", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = tokens.Token()
	var fe *forward.Error
	if !errors.As(err, &fe) || fe.Kind != forward.Auth {
		t.Fatalf("error %v, want an Auth *forward.Error", err)
	}
	if !strings.Contains(fe.Message, "invalid_grant") || !strings.Contains(fe.Message, "[redacted]") {
		t.Errorf("message %q: want the OAuth code and the echoed secrets redacted", fe.Message)
	}
	for _, s := range []string{creds["clientSecret"], creds["refreshToken"]} {
		if strings.Contains(fe.Error(), s) {
			t.Errorf("error %q carries a secret", fe.Error())
		}
	}
}

func TestRedactAccessToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"ya29.abc","expires_in":3600,"token_type":"Bearer"}`))
	}))
	defer srv.Close()
	tokens, err := googleauth.NewTokens(creds, srv.URL, "scope", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Token()
	if err != nil || tok != "ya29.abc" {
		t.Fatalf("Token() = %q, %v", tok, err)
	}
	if got := tokens.Redact("echo: Bearer ya29.abc"); got != "echo: Bearer [redacted]" {
		t.Errorf("Redact = %q", got)
	}
}
