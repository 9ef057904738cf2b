// Package googleauthfake is a strict local stand-in for Google's OAuth2
// token endpoint: it mints access tokens from one refresh token, the way
// https://oauth2.googleapis.com/token does, for the Google adapters' fakes.
package googleauthfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
)

// Path is where the fakes serve the token endpoint; a test sets the
// destination's tokenURL to the fake server's URL plus Path.
const Path = "/token"

// Server is the token endpoint. It is safe for concurrent use.
type Server struct {
	clientID, clientSecret, refreshToken string

	mu     sync.Mutex
	hits   int
	issued map[string]bool
	fails  []failure
}

type failure struct {
	status int
	code   string
}

// New returns a token endpoint that accepts exactly these credentials.
func New(clientID, clientSecret, refreshToken string) *Server {
	return &Server{clientID: clientID, clientSecret: clientSecret, refreshToken: refreshToken, issued: map[string]bool{}}
}

// Hits is how many token requests arrived, good or bad.
func (s *Server) Hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// Valid reports whether token is an access token this endpoint issued and
// did not revoke.
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[token]
}

// Revoke invalidates every access token issued so far, as when a user
// removes the app's access: the API then answers 401 until a refresh.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued = map[string]bool{}
}

// FailNext makes the next n token requests fail with status and the OAuth
// error code (invalid_grant, ...) before any other check.
func (s *Server) FailNext(n, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails = append(s.fails, failure{status, code})
	}
}

// ServeHTTP answers a refresh-token grant as Google does: form-encoded
// request, JSON answer, OAuth error codes in {"error","error_description"}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if len(s.fails) > 0 {
		f := s.fails[0]
		s.fails = s.fails[1:]
		oauthError(w, f.status, f.code, "injected failure")
		return
	}
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "token requests are POSTs")
		return
	}
	if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be form-encoded")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case r.PostForm.Get("grant_type") != "refresh_token":
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
	case id != s.clientID || secret != s.clientSecret:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
	case r.PostForm.Get("refresh_token") != s.refreshToken:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
	default:
		tok := "ya29.fake-" + randomHex(16)
		s.issued[tok] = true
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": tok, "expires_in": 3599, "token_type": "Bearer",
		})
	}
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
