package googleadsapifake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/forward/googleadsapi/googleadsapifake"
)

const (
	clientID = "cid"
	secret   = "csecret"
	refresh  = "rtoken"
	devToken = "dev"
	digest   = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	clicks   = "/v26/customers/1234567890:uploadClickConversions"
	adjusts  = "/v26/customers/1234567890:uploadConversionAdjustments"
)

type client struct {
	t     *testing.T
	fake  *googleadsapifake.Fake
	srv   *httptest.Server
	token string
}

func start(t *testing.T) *client {
	t.Helper()
	f := googleadsapifake.New(clientID, secret, refresh, devToken)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	resp, err := http.PostForm(srv.URL+googleadsapifake.TokenPath, url.Values{
		"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {secret}, "refresh_token": {refresh},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	return &client{t: t, fake: f, srv: srv, token: tok.AccessToken}
}

type answer struct {
	status int
	Error  struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Status  string          `json:"status"`
		Details []failureDetail `json:"details"`
	} `json:"error"`
	PartialFailureError *struct {
		Code    int             `json:"code"`
		Details []failureDetail `json:"details"`
	} `json:"partialFailureError"`
	Results []json.RawMessage `json:"results"`
}

type failureDetail struct {
	Type   string `json:"@type"`
	Errors []struct {
		ErrorCode map[string]string `json:"errorCode"`
		Message   string            `json:"message"`
		Location  struct {
			FieldPathElements []struct {
				FieldName string `json:"fieldName"`
				Index     int    `json:"index"`
			} `json:"fieldPathElements"`
		} `json:"location"`
	} `json:"errors"`
}

func (c *client) post(path, body string, header map[string]string) answer {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("developer-token", devToken)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(b, &a); err != nil {
		c.t.Fatalf("answer %s: %v", b, err)
	}
	return a
}

// rowCode returns the error code of the first partial failure and its row.
func (a answer) rowCode() (string, int) {
	if a.PartialFailureError == nil || len(a.PartialFailureError.Details) == 0 || len(a.PartialFailureError.Details[0].Errors) == 0 {
		return "", -1
	}
	e := a.PartialFailureError.Details[0].Errors[0]
	for _, v := range e.ErrorCode {
		return v, e.Location.FieldPathElements[0].Index
	}
	return "", -1
}

func (a answer) requestCode() string {
	for _, d := range a.Error.Details {
		for _, e := range d.Errors {
			for _, v := range e.ErrorCode {
				return v
			}
		}
	}
	return ""
}

const goodClick = `{"gclid":"G1","conversionAction":"customers/1234567890/conversionActions/555",
 "conversionDateTime":"2026-11-20 15:04:05+01:00","conversionValue":10,"currencyCode":"EUR","orderId":"o1",
 "userIdentifiers":[{"hashedEmail":"` + digest + `"}],"consent":{"adUserData":"GRANTED"}}`

func clickBody(rows ...string) string {
	return `{"conversions":[` + strings.Join(rows, ",") + `],"partialFailure":true}`
}

func TestValidClickAccepted(t *testing.T) {
	c := start(t)
	a := c.post(clicks, clickBody(goodClick), nil)
	if a.status != 200 || a.PartialFailureError != nil || len(a.Results) != 1 || len(c.fake.Conversions()) != 1 {
		t.Fatalf("%+v", a)
	}
}

func TestClickRowRules(t *testing.T) {
	tests := []struct{ name, from, to, code string }{
		{"gclid and gbraid", `"gclid":"G1"`, `"gclid":"G1","gbraid":"B1"`, "VALUE_MUST_BE_UNSET"},
		{"gbraid and wbraid", `"gclid":"G1"`, `"gbraid":"B1","wbraid":"W1"`, "GBRAID_WBRAID_BOTH_SET"},
		{"no click id nor identifiers", `"gclid":"G1",`, ``, "REQUIRED"},
		{"date time without zone", `15:04:05+01:00`, `15:04:05`, "INVALID_STRING_DATE_TIME_SECONDS"},
		{"RFC 3339 date time", `2026-11-20 15:04:05+01:00`, `2026-11-20T15:04:05+01:00`, "INVALID_STRING_DATE_TIME_SECONDS"},
		{"six identifiers", `[{"hashedEmail":"` + digest + `"}]`, `[` + strings.Repeat(`{"hashedEmail":"`+digest+`"},`, 5) + `{"hashedEmail":"` + digest + `"}]`, "TOO_MANY"},
		{"identifier not hashed", digest, `someone@example.com`, "INVALID_USER_IDENTIFIER"},
		{"unsupported identifier", `{"hashedEmail":"` + digest + `"}`, `{"mobileId":"abc"}`, "UNSUPPORTED_USER_IDENTIFIER"},
		{"negative value", `"conversionValue":10`, `"conversionValue":-1`, "INVALID_VALUE"},
		{"action of another customer", `customers/1234567890/conversionActions`, `customers/1111111111/conversionActions`, "NO_CONVERSION_ACTION_FOUND"},
		{"malformed action", `customers/1234567890/conversionActions/555`, `conversionActions/555`, "RESOURCE_NAME_MALFORMED"},
		{"unparseable gclid", `"gclid":"G1"`, `"gclid":"G 1!"`, "UNPARSEABLE_GCLID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(goodClick, tt.from) {
				t.Fatalf("case does not apply")
			}
			c := start(t)
			bad := strings.Replace(goodClick, tt.from, tt.to, 1)
			if tt.name == "no click id nor identifiers" {
				bad = strings.Replace(bad, `"userIdentifiers":[{"hashedEmail":"`+digest+`"}],`, ``, 1)
			}
			good2 := strings.Replace(goodClick, `"G1"`, `"G2"`, 1)
			a := c.post(clicks, clickBody(good2, bad), nil)
			code, row := a.rowCode()
			if a.status != 200 || code != tt.code || row != 1 {
				t.Errorf("status %d, row %d code %q; want 200 and row 1 %s", a.status, row, code, tt.code)
			}
			if a.PartialFailureError != nil && !strings.HasSuffix(a.PartialFailureError.Details[0].Type, "v26.errors.GoogleAdsFailure") {
				t.Errorf("@type %q", a.PartialFailureError.Details[0].Type)
			}
			if n := len(c.fake.Conversions()); n != 1 {
				t.Errorf("recorded %d conversions, want only the good row", n)
			}
		})
	}
}

func TestGclidMarksAndDuplicates(t *testing.T) {
	c := start(t)
	c.fake.MarkGclid("G1", googleadsapifake.TooRecent)
	if code, _ := c.post(clicks, clickBody(goodClick), nil).rowCode(); code != "TOO_RECENT_EVENT" {
		t.Errorf("TooRecent: %q", code)
	}
	c.fake.MarkGclid("G1", googleadsapifake.Expired)
	if code, _ := c.post(clicks, clickBody(goodClick), nil).rowCode(); code != "EXPIRED_EVENT" {
		t.Errorf("Expired: %q", code)
	}
	c.fake.MarkGclid("G1", googleadsapifake.AlreadyExists)
	if code, _ := c.post(clicks, clickBody(goodClick), nil).rowCode(); code != "CLICK_CONVERSION_ALREADY_EXISTS" {
		t.Errorf("AlreadyExists: %q", code)
	}
	other := strings.Replace(goodClick, `"G1"`, `"G9"`, 1)
	c.post(clicks, clickBody(other), nil)
	if code, _ := c.post(clicks, clickBody(other), nil).rowCode(); code != "CLICK_CONVERSION_ALREADY_EXISTS" {
		t.Errorf("same click and time twice: %q", code)
	}
}

func TestWholeRequestRules(t *testing.T) {
	tests := []struct {
		name, path, body string
		header           map[string]string
		status           int
		want             string // error code in details, or text in the message
	}{
		{"unknown field", clicks, `{"conversions":[` + goodClick + `],"partialFailure":true,"partial_failure_mode":1}`, nil, 400, "Invalid JSON payload"},
		{"unknown field in a row", clicks, clickBody(strings.Replace(goodClick, `"orderId"`, `"transactionId"`, 1)), nil, 400, "Invalid JSON payload"},
		{"two identifiers in one object", clickBody(""), "", nil, 400, "Invalid JSON payload"},
		{"partialFailure false", clicks, `{"conversions":[` + goodClick + `],"partialFailure":false}`, nil, 400, "PARTIAL_FAILURE_MODE_REQUIRED"},
		{"partialFailure missing", clicks, `{"conversions":[` + goodClick + `]}`, nil, 400, "PARTIAL_FAILURE_MODE_REQUIRED"},
		{"no conversions", clicks, `{"conversions":[],"partialFailure":true}`, nil, 400, "REQUIRED_NONEMPTY_LIST"},
		{"too many conversions", clicks, clickBody(strings.Split(strings.Repeat(goodClick+"\x00", 2001), "\x00")[:2001]...), nil, 400, "TOO_MANY_CONVERSIONS_IN_REQUEST"},
		{"no bearer", clicks, clickBody(goodClick), map[string]string{"Authorization": ""}, 401, "OAUTH_TOKEN_INVALID"},
		{"forged bearer", clicks, clickBody(goodClick), map[string]string{"Authorization": "Bearer ya29.forged"}, 401, "OAUTH_TOKEN_INVALID"},
		{"no developer token", clicks, clickBody(goodClick), map[string]string{"developer-token": ""}, 400, "DEVELOPER_TOKEN_PARAMETER_MISSING"},
		{"wrong developer token", clicks, clickBody(goodClick), map[string]string{"developer-token": "x"}, 401, "DEVELOPER_TOKEN_INVALID"},
		{"dashed login customer id", clicks, clickBody(goodClick), map[string]string{"login-customer-id": "123-456-7890"}, 400, "INVALID_CUSTOMER_ID"},
		{"dashed customer id", "/v26/customers/123-456-7890:uploadClickConversions", clickBody(goodClick), nil, 400, "INVALID_CUSTOMER_ID"},
		{"old version", "/v25/customers/1234567890:uploadClickConversions", clickBody(goodClick), nil, 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "two identifiers in one object" {
				tt.path = clicks
				tt.body = clickBody(strings.Replace(goodClick, `{"hashedEmail":"`+digest+`"}`, `{"hashedEmail":"`+digest+`","hashedPhoneNumber":"`+digest+`"}`, 1))
			}
			c := start(t)
			a := c.post(tt.path, tt.body, tt.header)
			got := a.requestCode()
			if a.status != tt.status || a.Error.Code != tt.status || a.Error.Status == "" ||
				(got != tt.want && !strings.Contains(a.Error.Message, tt.want)) {
				t.Errorf("%d %+v (code %q); want %d with %q", a.status, a.Error, got, tt.status, tt.want)
			}
			if n := len(c.fake.Conversions()); n != 0 {
				t.Errorf("a rejected request recorded %d conversions", n)
			}
		})
	}
}

func TestNotAllowlisted(t *testing.T) {
	c := start(t)
	c.fake.SetNotAllowlisted(true)
	a := c.post(clicks, clickBody(goodClick), nil)
	if a.status != 403 || a.Error.Status != "PERMISSION_DENIED" || a.requestCode() != "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE" {
		t.Errorf("%d %+v", a.status, a.Error)
	}
}

const goodAdjustment = `{"conversionAction":"customers/1234567890/conversionActions/555","adjustmentType":"RESTATEMENT",
 "adjustmentDateTime":"2026-11-22 15:04:05+01:00","orderId":"o1","restatementValue":{"adjustedValue":5,"currencyCode":"EUR"}}`

func adjustBody(rows ...string) string {
	return `{"conversionAdjustments":[` + strings.Join(rows, ",") + `],"partialFailure":true}`
}

func TestAdjustmentRules(t *testing.T) {
	tests := []struct{ name, from, to, code string }{
		{"valid", ``, ``, ""},
		{"order id and gclid pair", `"orderId":"o1"`, `"orderId":"o1","gclidDateTimePair":{"gclid":"G1","conversionDateTime":"2026-11-20 15:04:05+01:00"}`, "GCLID_DATE_TIME_PAIR_AND_ORDER_ID_BOTH_SET"},
		{"neither", `"orderId":"o1",`, ``, "REQUIRED"},
		{"before the conversion", `2026-11-22 15:04:05+01:00`, `2026-11-20 15:04:05+01:00`, "ADJUSTMENT_PRECEDES_CONVERSION"},
		{"adjustment time without zone", `2026-11-22 15:04:05+01:00`, `2026-11-22 15:04:05`, "INVALID_STRING_DATE_TIME_SECONDS"},
		{"restatement without value", `,"restatementValue":{"adjustedValue":5,"currencyCode":"EUR"}`, ``, "REQUIRED"},
		{"retraction with value", `"RESTATEMENT"`, `"RETRACTION"`, "VALUE_MUST_BE_UNSET"},
		{"unknown order", `"orderId":"o1"`, `"orderId":"o2"`, "CONVERSION_NOT_FOUND"},
		{"no type", `"adjustmentType":"RESTATEMENT",`, ``, "REQUIRED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t)
			c.fake.RecordConversion("o1", time.Date(2026, 11, 20, 15, 4, 5, 0, time.FixedZone("", 3600)))
			a := c.post(adjusts, adjustBody(strings.Replace(goodAdjustment, tt.from, tt.to, 1)), nil)
			code, _ := a.rowCode()
			if a.status != 200 || code != tt.code {
				t.Errorf("status %d code %q, want 200 %q", a.status, code, tt.code)
			}
			want := 0
			if tt.code == "" {
				want = 1
			}
			if n := len(c.fake.Adjustments()); n != want {
				t.Errorf("recorded %d adjustments, want %d", n, want)
			}
		})
	}
}

func TestAdjustmentRequestRules(t *testing.T) {
	c := start(t)
	for name, body := range map[string]string{
		"partialFailure false": `{"conversionAdjustments":[` + goodAdjustment + `]}`,
		"unknown field":        adjustBody(strings.Replace(goodAdjustment, `"orderId"`, `"order_identifier"`, 1)),
	} {
		a := c.post(adjusts, body, nil)
		if a.status != 400 || a.Error.Status != "INVALID_ARGUMENT" {
			t.Errorf("%s: %d %+v", name, a.status, a.Error)
		}
	}
}

func TestRetractTwice(t *testing.T) {
	c := start(t)
	c.fake.RecordConversion("o1", time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC))
	retract := strings.Replace(strings.Replace(goodAdjustment, `"RESTATEMENT"`, `"RETRACTION"`, 1),
		`,"restatementValue":{"adjustedValue":5,"currencyCode":"EUR"}`, ``, 1)
	if code, _ := c.post(adjusts, adjustBody(retract), nil).rowCode(); code != "" {
		t.Fatalf("first retraction: %q", code)
	}
	if code, _ := c.post(adjusts, adjustBody(retract), nil).rowCode(); code != "CONVERSION_ALREADY_RETRACTED" {
		t.Errorf("second retraction: %q", code)
	}
}
