// Package googleauth is what the two Google Ads adapters (googleads, the
// Data Manager API, and googleadsapi, the Google Ads API) share: OAuth2
// access tokens minted from a refresh token, and Google's JSON error shape.
package googleauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/trackstack/trackstack/runtime/forward"
)

// DefaultTokenURL is Google's OAuth2 token endpoint.
const DefaultTokenURL = "https://oauth2.googleapis.com/token"

// Credential keys every Google destination's Secret holds.
const (
	KeyClientID     = "clientID"
	KeyClientSecret = "clientSecret"
	KeyRefreshToken = "refreshToken"
)

// maxMessage bounds a platform message kept in an error or a reason.
const maxMessage = 300

// Tokens hands out access tokens minted from a refresh token and caches
// each until shortly before it expires, so a busy forwarder asks Google's
// token endpoint about once an hour rather than once per request.
type Tokens struct {
	cfg     oauth2.Config
	refresh string
	// ctx carries the engine's *http.Client for oauth2's token requests.
	ctx context.Context
	// secrets are scrubbed from every message this package builds.
	secrets []string

	mu  sync.Mutex
	src oauth2.TokenSource
}

// NewTokens builds the token source of one destination. tokenURL is the
// block's override or "" for Google's; scope documents the API the
// refresh token must have been granted for (a refresh does not widen it).
func NewTokens(creds forward.Credentials, tokenURL, scope string, client *http.Client) (*Tokens, error) {
	if err := creds.Require(KeyClientID, KeyClientSecret, KeyRefreshToken); err != nil {
		return nil, err
	}
	u, err := forward.Endpoint(DefaultTokenURL, tokenURL, "")
	if err != nil {
		return nil, fmt.Errorf("tokenURL: %w", err)
	}
	if client == nil {
		return nil, errors.New("no HTTP client given")
	}
	t := &Tokens{
		cfg: oauth2.Config{
			ClientID:     creds[KeyClientID],
			ClientSecret: creds[KeyClientSecret],
			// Google takes the client credentials in the form; saying so
			// spares oauth2's auto-detection a failed first attempt.
			Endpoint: oauth2.Endpoint{TokenURL: u, AuthStyle: oauth2.AuthStyleInParams},
			Scopes:   []string{scope},
		},
		refresh: creds[KeyRefreshToken],
		ctx:     context.WithValue(context.Background(), oauth2.HTTPClient, client),
		secrets: []string{creds[KeyClientSecret], creds[KeyRefreshToken]},
	}
	t.src = t.newSource()
	return t, nil
}

func (t *Tokens) newSource() oauth2.TokenSource {
	return oauth2.ReuseTokenSource(nil, t.cfg.TokenSource(t.ctx, &oauth2.Token{RefreshToken: t.refresh}))
}

// Token returns a valid access token, refreshing it when needed. A failed
// refresh is a classified *forward.Error: the token endpoint refusing the
// client or the refresh token (invalid_grant, invalid_client) is Auth,
// its 429 and 5xx Transient.
func (t *Tokens) Token() (string, error) {
	t.mu.Lock()
	src := t.src
	t.mu.Unlock()
	tok, err := src.Token()
	if err != nil {
		return "", t.classify(err)
	}
	t.mu.Lock()
	t.secrets = appendSecret(t.secrets, tok.AccessToken)
	t.mu.Unlock()
	return tok.AccessToken, nil
}

// Invalidate drops the cached token, for when the API answered 401: the
// token was revoked before it expired, and the next Token refreshes.
func (t *Tokens) Invalidate() {
	t.mu.Lock()
	t.src = t.newSource()
	t.mu.Unlock()
}

func (t *Tokens) classify(err error) *forward.Error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return &forward.Error{Kind: forward.Transient, Message: t.Redact("OAuth token refresh: " + Unwrap(err).Error())}
	}
	msg := "OAuth token refresh refused"
	if re.ErrorCode != "" {
		msg += ": " + re.ErrorCode
	}
	if re.ErrorDescription != "" {
		msg += " (" + re.ErrorDescription + ")"
	}
	fe := &forward.Error{Kind: forward.Auth, Message: t.Redact(forward.Truncate(msg, maxMessage))}
	if resp := re.Response; resp != nil {
		fe.Status = resp.StatusCode
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			fe.Kind = forward.Transient
			fe.RetryAfter = forward.RetryAfter(resp.Header, time.Now())
		}
	}
	return fe
}

// Redact replaces every credential this source knows (client secret,
// refresh token, access tokens it handed out) in s, so a platform that
// echoes one back never puts it in a record or a log.
func (t *Tokens) Redact(s string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, sec := range t.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// appendSecret remembers the latest access tokens, a few at most: one
// lives an hour, so the list stays tiny for the process's lifetime.
func appendSecret(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	const keep = 2 + 4 // client secret, refresh token, the last access tokens
	list = append(list, s)
	if len(list) > keep {
		list = append(list[:2], list[len(list)-(keep-2):]...)
	}
	return list
}

// Unwrap drops the URL a *url.Error carries (an endpoint override may
// hold userinfo), keeping what went wrong.
func Unwrap(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
