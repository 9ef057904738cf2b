package metafake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// adapterBody is a request as the meta adapter writes it: every field it
// can send, in its order.
const adapterBody = `{"data":[{"event_name":"Purchase","event_time":1763636400,"event_id":"order-1","action_source":"website","event_source_url":"https://shop.example.com/checkout/done",` +
	`"user_data":{"em":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],"ph":["e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"],` +
	`"fn":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],"ln":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],` +
	`"ct":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],"zp":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],` +
	`"country":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],"external_id":["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"],` +
	`"client_ip_address":"203.0.113.7","client_user_agent":"Mozilla/5.0 (X11; Linux x86_64)","fbc":"fb.1.1763636400000.IwAR-1","fbp":"fb.1.1763636000000.42"},` +
	`"custom_data":{"value":49.9,"currency":"EUR","order_id":"1","content_ids":["A1","B2"],"contents":[{"id":"A1","quantity":2,"item_price":20},{"id":"B2"}]}},` +
	`{"event_name":"Lead","event_time":1763636400,"event_id":"e2","action_source":"website","event_source_url":"https://shop.example.com/","user_data":{"client_user_agent":"UA"}}],` +
	`"test_event_code":"TEST123","access_token":"secret-token"}`

// fallbackBodies are bodies fastDecode must leave to the general path,
// whatever that path makes of them.
var fallbackBodies = []string{
	``,
	`null`,
	`[]`,
	`{}`,
	`{"access_token":"t"}`,
	`{"data":null,"access_token":"t"}`,
	`{"data":[],"access_token":"t"}`,
	`{"data":[{}],"access_token":"t"}`,
	`{"data":[{"event_name":"Lead"}],"access_token":"t","extra":1}`,
	`{"data":[{"event_name":"Lead"}],"access_token":"t","access_token":"u"}`,
	`{"data":[{"event_name":"Lead"}],"data":[{"event_name":"Lead"}],"access_token":"t"}`,
	`{"data":[{"Event_Name":"Lead"}],"access_token":"t"}`,
	`{"Data":[{"event_name":"Lead"}],"access_token":"t"}`,
	`{"data":[{"event_name":"Lead","event_name":"Purchase"}],"access_token":"t"}`,
	`{"data":[{"event_name":"Le\u0061d"}],"access_token":"t"}`,
	`{"data":[{"event_name":"Lead\"x"}],"access_token":"t"}`,
	`{"data":[{"event_name":"caf` + "\xc3\xa9" + `"}],"access_token":"t"}`,
	`{"data":[{"event_name":"` + "\xff" + `"}],"access_token":"t"}`,
	`{"data":[{"event_name":null}],"access_token":"t"}`,
	`{"data":[{"event_name":1}],"access_token":"t"}`,
	`{"data":[{"event_time":1.5}],"access_token":"t"}`,
	`{"data":[{"event_time":1e3}],"access_token":"t"}`,
	`{"data":[{"event_time":"1763636400"}],"access_token":"t"}`,
	`{"data":[{"event_time":01}],"access_token":"t"}`,
	`{"data":[{"event_time":99999999999999999999}],"access_token":"t"}`,
	`{"data":[{"event_time":null}],"access_token":"t"}`,
	`{"data":[{"opt_out":true}],"access_token":"t"}`,
	`{"data":[{"user_data":{"em":"62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"}}],"access_token":"t"}`,
	`{"data":[{"user_data":{"em":[]}}],"access_token":"t"}`,
	`{"data":[{"user_data":{"em":[1]}}],"access_token":"t"}`,
	`{"data":[{"user_data":{"em":null}}],"access_token":"t"}`,
	`{"data":[{"user_data":{"email":["x"]}}],"access_token":"t"}`,
	`{"data":[{"user_data":{"ge":["x"]}}],"access_token":"t"}`,
	`{"data":[{"user_data":{"em":["a"],"em":["b"]}}],"access_token":"t"}`,
	`{"data":[{"user_data":{}}],"access_token":"t"}`,
	`{"data":[{"user_data":null}],"access_token":"t"}`,
	`{"data":[{"custom_data":{}}],"access_token":"t"}`,
	`{"data":[{"custom_data":null}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"value":"10"}}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"value":10,"value":11}}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"Value":10}}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"num_items":3}}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"contents":[{"id":"A","id":"B"}]}}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"contents":[{"sku":"A"}]}}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"content_ids":[]}}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"value":-}}],"access_token":"t"}`,
	`{"data":[{"custom_data":{"value":1.}}],"access_token":"t"}`,
	`{"data":[{"event_name":"Lead"}],"access_token":"t"} x`,
	`{"data":[{"event_name":"Lead"}],"access_token":"t"}{}`,
	`{"data":[{"event_name":"Lead"},],"access_token":"t"}`,
	`{"data":[{"event_name":"Lead",}],"access_token":"t"}`,
	`{"data":[{"event_name":"Lead"}],"access_token":"t"`,
	`{"data":[{"event_time":1763636400x}],"access_token":"t"}`,
}

// fastBodies are bodies fastDecode must read itself.
var fastBodies = []string{
	adapterBody,
	`{"data":[{"event_name":"Lead"}]}`,
	" \n{ \"data\" :\t[ { \"event_name\" : \"Lead\" , \"event_time\" : -0 } ] , \"access_token\" : \"t\" }\r\n",
	`{"access_token":"t","data":[{"custom_data":{"contents":[{"item_price":-1.5e-7,"quantity":0,"id":""}],"value":1E+400}}]}`,
	`{"data":[{"user_data":{"fbc":"not a cookie","em":["NOT HEX"]},"event_time":9223372036854775807}]}`,
}

// TestFastDecodeMatchesGeneral: wherever fastDecode reads a body, the
// general path accepts it and decodes the same events, token and test
// code; so the fake accepts and rejects exactly what it did before.
func TestFastDecodeMatchesGeneral(t *testing.T) {
	for _, raw := range fastBodies {
		if _, ok := fastDecode([]byte(raw)); !ok {
			t.Errorf("fastDecode left to the general path:\n%s", raw)
		}
		checkAgainstGeneral(t, []byte(raw))
	}
	for _, raw := range fallbackBodies {
		if _, ok := fastDecode([]byte(raw)); ok {
			t.Errorf("fastDecode read what it should leave to the general path:\n%s", raw)
		}
	}
}

// TestAdapterShapeAccepted: the body in the adapter's shape is accepted
// whole by the fake (with a clock that makes its events recent), so the
// fast path is what the forwarder benchmark measures.
func TestAdapterShapeAccepted(t *testing.T) {
	f := New(pixel, "secret-token")
	f.SetClock(func() time.Time { return time.Unix(1763636400, 0) })
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v26.0/"+pixel+"/events", strings.NewReader(adapterBody)))
	if rec.Code != http.StatusOK || len(f.Events()) != 2 || f.TestEventCodes()[0] != "TEST123" {
		t.Fatalf("status %d %s, events %d", rec.Code, rec.Body, len(f.Events()))
	}
}

// checkAgainstGeneral also overwrites the body fastDecode read, to show
// that what it decoded holds none of it.
func checkAgainstGeneral(t *testing.T, raw []byte) {
	t.Helper()
	body := bytes.Clone(raw)
	fast, ok := fastDecode(body)
	if !ok {
		return
	}
	for i := range body {
		body[i] = 'x'
	}
	r := httptest.NewRequest(http.MethodPost, "/v26.0/"+pixel+"/events", nil)
	general, err := decodeGeneral(r, raw, false)
	if err != nil {
		t.Fatalf("fastDecode read a body the general path refuses (%v):\n%s", err, raw)
	}
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("fastDecode read\n%#v\nthe general path\n%#v\nfrom\n%s", fast, general, raw)
	}
}

// FuzzReadBody compares fastDecode with the general path on any body.
func FuzzReadBody(f *testing.F) {
	for _, raw := range append(append([]string{}, fastBodies...), fallbackBodies...) {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkAgainstGeneral(t, raw)
	})
}

// The patterns the byte loops in event.go replace.
var (
	hexDigestPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	fbCookiePattern  = regexp.MustCompile(`^fb\.[0-9]+\.[0-9]{10,}\.[^\s]+$`)
	currencyPattern  = regexp.MustCompile(`^[A-Za-z]{3}$`)
)

var formatSamples = []string{
	"", "fb", "fb.", "fb.1.", "fb.1.1763636400000.IwAR-1", "fb.1.1763636400000.", "fb.1.176363640.x", "fb.12.1763636400.a.b.c",
	"fb..1763636400000.x", "fb.1.1763636400000.a b", "fb.1.1763636400000.a\tb", "fb.1.1763636400000.a\vb", "fb.1.1763636400000.\xff",
	"fb.1.1763636400000.a\n", "fb.x.1763636400000.a", "FB.1.1763636400000.a", "fb.1.17636364000a0.a", "fb.1.1763636400000.a\u00a0",
	emDigest, strings.ToUpper(emDigest), emDigest[:63], emDigest + "0", emDigest[:63] + "g",
	"EUR", "eur", "Eu1", "EURO", "E@R", "[UR", "`ur", "{ur", "€",
	"49.9", "-0", "0", "01", "1e400", "-1.5E-7", " 1", "1 ", "1.", "null", "true", `"EUR"`, `"E\u0055R"`, `"EUR" `, `"cafÃ©"`, `"ÿ"`, `"a`,
}

// TestFormatChecksMatchPatterns: the byte loops accept exactly what the
// regular expressions they replace accept.
func TestFormatChecksMatchPatterns(t *testing.T) {
	for _, s := range formatSamples {
		checkFormats(t, s)
	}
}

func FuzzFormatChecks(f *testing.F) {
	for _, s := range formatSamples {
		f.Add(s)
	}
	f.Fuzz(checkFormats)
}

func checkFormats(t *testing.T, s string) {
	if got, want := isHexDigest(s), hexDigestPattern.MatchString(s); got != want {
		t.Errorf("isHexDigest(%q) = %v, the pattern %v", s, got, want)
	}
	if got, want := isFBCookie(s), fbCookiePattern.MatchString(s); got != want {
		t.Errorf("isFBCookie(%q) = %v, the pattern %v", s, got, want)
	}
	if got, want := isCurrencyCode(s), currencyPattern.MatchString(s); got != want {
		t.Errorf("isCurrencyCode(%q) = %v, the pattern %v", s, got, want)
	}
	raw := json.RawMessage(s)
	var f, wantF float64
	if got, want := unmarshalFloat(raw, &f), json.Unmarshal(raw, &wantF) == nil; got != want || (got && f != wantF) {
		t.Errorf("unmarshalFloat(%q) = %v %v, json.Unmarshal %v %v", s, got, f, want, wantF)
	}
	var str, wantStr string
	if got, want := unmarshalString(raw, &str), json.Unmarshal(raw, &wantStr) == nil; got != want || str != wantStr {
		t.Errorf("unmarshalString(%q) = %v %q, json.Unmarshal %v %q", s, got, str, want, wantStr)
	}
}
