package googleadsfake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/forward/googleads/googleadsfake"
)

const (
	clientID = "cid"
	secret   = "csecret"
	refresh  = "rtoken"
	digest   = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
)

func start(t *testing.T) (*googleadsfake.Fake, *httptest.Server) {
	t.Helper()
	f := googleadsfake.New(clientID, secret, refresh)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func token(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	resp, err := http.PostForm(srv.URL+googleadsfake.TokenPath, url.Values{
		"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {secret}, "refresh_token": {refresh},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v %+v", err, tok)
	}
	return tok.AccessToken
}

// valid is a request the fake accepts; each case breaks one thing.
const valid = `{
 "destinations":[{"operatingAccount":{"accountType":"GOOGLE_ADS","accountId":"1234567890"},"productDestinationId":"555"}],
 "encoding":"HEX",
 "events":[{"adIdentifiers":{"gclid":"G1"},"eventTimestamp":"2026-11-20T15:04:05+01:00","transactionId":"o1",
   "conversionValue":10,"currency":"EUR","eventSource":"WEB",
   "userData":{"userIdentifiers":[{"emailAddress":"` + digest + `"}]},
   "consent":{"adUserData":"CONSENT_GRANTED"}}]
}`

func post(t *testing.T, srv *httptest.Server, tok, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+googleadsfake.IngestPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestValidRequestAccepted(t *testing.T) {
	f, srv := start(t)
	code, body := post(t, srv, token(t, srv), valid)
	if code != 200 || !strings.Contains(body, `"requestId"`) {
		t.Fatalf("%d %s", code, body)
	}
	if n := len(f.Events()); n != 1 {
		t.Errorf("recorded %d events", n)
	}
}

func TestEachRuleRejects(t *testing.T) {
	tests := []struct {
		name, from, to, want string
	}{
		{"unknown top-level field", `"encoding":"HEX"`, `"encoding":"HEX","partialFailure":true`, "unknown field"},
		// Event has its own UnmarshalJSON, which drops unknown fields
		// unless the fake walks the body itself.
		{"unknown field inside an event", `"transactionId":"o1"`, `"transactionId":"o1","orderId":"o1"`, `unknown field "events[0].orderId"`},
		{"snake_case name", `"eventTimestamp"`, `"event_timestamp"`, "unknown field"},
		// Item has its own UnmarshalJSON too, two levels further down.
		{"unknown field inside a cart item", `"transactionId":"o1"`, `"transactionId":"o1","cartData":{"items":[{"itemId":"i1","sku":"x"}]}`, `unknown field "events[0].cartData.items[0].sku"`},
		// encoding/json matches names ignoring case; Google does not.
		{"name in another case", `"transactionId"`, `"TransactionId"`, `unknown field "events[0].TransactionId"`},
		{"escaped unknown name", `"transactionId":"o1"`, `"transactionId":"o1","\u006frderId":"o1"`, `unknown field "events[0].orderId"`},
		{"value where an object belongs", `"adIdentifiers":{"gclid":"G1"}`, `"adIdentifiers":["G1"]`, "cannot unmarshal array"},
		{"number as a string", `"conversionValue":10`, `"conversionValue":"10"`, "bad float string"},
		{"data after the request", "}}]\n}", "}}]\n}}", "after"},
		{"no destinations", `"destinations":[{"operatingAccount":{"accountType":"GOOGLE_ADS","accountId":"1234567890"},"productDestinationId":"555"}]`, `"destinations":[]`, "destinations: at least one"},
		{"no conversion action", `,"productDestinationId":"555"`, ``, "productDestinationId is required"},
		{"dashed customer id", `"1234567890"`, `"123-456-7890"`, "10-digit"},
		{"two ad identifier kinds", `{"gclid":"G1"}`, `{"gclid":"G1","wbraid":"W1"}`, "only one of gclid"},
		{"timestamp without zone", `2026-11-20T15:04:05+01:00`, `2026-11-20T15:04:05`, "eventTimestamp"},
		{"timestamp not RFC 3339", `2026-11-20T15:04:05+01:00`, `2026-11-20 15:04:05+01:00`, "eventTimestamp"},
		{"raw email", digest, `someone@example.com`, "not a hex-encoded SHA-256"},
		{"hashed identifiers without encoding", `"encoding":"HEX",`, ``, "encoding"},
		{"negative value", `"conversionValue":10`, `"conversionValue":-1`, "negative"},
		{"lower-case currency", `"EUR"`, `"eur"`, "currency"},
		{"two fields in one identifier", `{"emailAddress":"` + digest + `"}`, `{"emailAddress":"` + digest + `","phoneNumber":"` + digest + `"}`, "exactly one"},
		{"nothing to match on", `"adIdentifiers":{"gclid":"G1"},`, `"userData":null,"adIdentifiers":null,`, "needs a gclid"},
		{"unknown consent status", `"CONSENT_GRANTED"`, `"GRANTED"`, "consent status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(valid, tt.from) {
				t.Fatalf("case does not apply: %q not in the valid request", tt.from)
			}
			body := strings.Replace(valid, tt.from, tt.to, 1)
			if tt.name == "nothing to match on" {
				body = strings.Replace(body, `"userData":{"userIdentifiers":[{"emailAddress":"`+digest+`"}]},`, ``, 1)
			}
			f, srv := start(t)
			code, answer := post(t, srv, token(t, srv), body)
			wantGoogleError(t, code, answer, 400, "INVALID_ARGUMENT", tt.want)
			if n := len(f.Events()); n != 0 {
				t.Errorf("a rejected request recorded %d events", n)
			}
		})
	}
}

func TestEventLimits(t *testing.T) {
	var req map[string]any
	if err := json.Unmarshal([]byte(valid), &req); err != nil {
		t.Fatal(err)
	}
	one := req["events"].([]any)[0]
	for _, n := range []int{0, 2001} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			events := make([]any, n)
			for i := range events {
				events[i] = one
			}
			req["events"] = events
			b, _ := json.Marshal(req)
			_, srv := start(t)
			code, answer := post(t, srv, token(t, srv), string(b))
			wantGoogleError(t, code, answer, 400, "INVALID_ARGUMENT", "a request takes 1 to 2000")
		})
	}
}

func TestAuthentication(t *testing.T) {
	f, srv := start(t)
	tok := token(t, srv)
	for name, bearer := range map[string]string{"none": "", "not issued": "ya29.forged"} {
		t.Run(name, func(t *testing.T) {
			code, answer := post(t, srv, bearer, valid)
			wantGoogleError(t, code, answer, 401, "UNAUTHENTICATED", "invalid authentication credentials")
		})
	}
	f.Tokens.Revoke()
	code, answer := post(t, srv, tok, valid)
	wantGoogleError(t, code, answer, 401, "UNAUTHENTICATED", "")
}

func TestTokenEndpointChecks(t *testing.T) {
	good := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {secret}, "refresh_token": {refresh}}
	tests := []struct {
		name, key, value, want string
		status                 int
	}{
		{"wrong grant type", "grant_type", "authorization_code", "unsupported_grant_type", 400},
		{"wrong client", "client_id", "other", "invalid_client", 401},
		{"wrong secret", "client_secret", "other", "invalid_client", 401},
		{"revoked refresh token", "refresh_token", "other", "invalid_grant", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t)
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			form.Set(tt.key, tt.value)
			resp, err := http.PostForm(srv.URL+googleadsfake.TokenPath, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error string `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tt.status || e.Error != tt.want {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, e.Error, tt.status, tt.want)
			}
		})
	}
}

func TestValidateOnlyRecordsNothing(t *testing.T) {
	f, srv := start(t)
	code, _ := post(t, srv, token(t, srv), strings.Replace(valid, `"encoding":"HEX"`, `"encoding":"HEX","validateOnly":true`, 1))
	if code != 200 || len(f.Events()) != 0 || len(f.Requests()) != 1 {
		t.Errorf("code %d events %d requests %d", code, len(f.Events()), len(f.Requests()))
	}
}

func wantGoogleError(t *testing.T, code int, answer string, status int, name, msg string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(answer), &e); err != nil {
		t.Fatalf("answer %q is not Google's error shape: %v", answer, err)
	}
	if code != status || e.Error.Code != status || e.Error.Status != name || !strings.Contains(e.Error.Message, msg) {
		t.Errorf("got %d %+v, want %d %s with %q", code, e.Error, status, name, msg)
	}
}
