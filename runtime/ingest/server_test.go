package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
)

func serverEvent(id string, at time.Time) map[string]any {
	return map[string]any{
		"event_id":  id,
		"type":      "conversion",
		"name":      "purchase",
		"timestamp": at.Format(time.RFC3339),
		"value":     99.5,
		"currency":  "USD",
		"order_id":  "O-" + id,
	}
}

func TestServerAPIStoresConversions(t *testing.T) {
	h := newHarness(t)
	sale := serverEvent("sale-1", testNow.Add(-time.Hour))
	sale["user_id"] = "u-42"
	sale["visitor_id"] = "0123456789abcdef0123456789abcdef"
	sale["url"] = "https://shop.example.com/checkout"
	sale["utm"] = map[string]any{"source": "newsletter", "medium": "email"}
	sale["click_ids"] = map[string]any{"fbclid": "fb-1", "unknown_id": "x"}
	sale["consent"] = map[string]any{"ad_user_data": "granted", "ad_personalization": "DENIED"}
	sale["properties"] = map[string]any{"items": []any{map[string]any{"sku": "A", "qty": 2}}}
	sale["fbp"] = "fb.1.1.2"
	sale["user"] = map[string]any{
		"email": " John_Smith@gmail.com ", "phone": "(650)555-1212", "first_name": "Mary",
		"last_name": strings.Repeat("C", 64), "city": "Menlo Park", "zip": "94025-1234", "country": "US",
		"ip": "2001:db8:1234:5678::9", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	}
	refund := serverEvent("refund-1", testNow)
	refund["name"], refund["value"] = "refund", 20
	refundNeg := serverEvent("refund-2", testNow)
	refundNeg["name"], refundNeg["value"] = "refund", -15
	lead := map[string]any{"event_id": "lead-1", "type": "conversion", "name": "lead", "timestamp": testNow.Format(time.RFC3339Nano)}
	custom := map[string]any{"event_id": "c-1", "type": "custom", "name": "trial_started", "timestamp": "2026-11-23T11:00:00+01:00"}

	res := decodeResult(t, h.postServer(batchBody("shop", sale, refund, refundNeg, lead, custom)))
	if res.Accepted != 5 || len(res.Rejected) != 0 {
		t.Fatalf("result %+v", res)
	}
	got := h.w.stored()
	e := got[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"source", e.Source, event.SourceServer},
		{"user id", e.UserID, "u-42"},
		{"visitor", e.VisitorID, "0123456789abcdef0123456789abcdef"},
		{"email", e.User.EmailSHA256, "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"},
		{"phone", e.User.PhoneSHA256, "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"},
		{"first name", e.User.FirstNameSHA256, "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"},
		{"pre-hashed last name", e.User.LastNameSHA256, strings.Repeat("c", 64)},
		{"city", e.User.CitySHA256, enrich.SHA256Hex("menlopark")},
		{"zip", e.User.ZipSHA256, enrich.SHA256Hex("94025")},
		{"ip truncated", e.IP, "2001:db8:1234::"},
		{"raw ip", e.RawIP, "2001:db8:1234:5678::9"},
		{"device", e.Device.Type, "mobile"},
		{"channel", e.Channel, event.ChannelPaidSocial},
		{"click ids", len(e.ClickIDs), 1},
		{"consent", e.Consent, event.Consent{AdUserData: event.Granted, AdPersonalization: event.Denied}},
		{"properties", string(e.Properties), `{"items":[{"qty":2,"sku":"A"}]}`},
		{"fbp", e.FBP, "fb.1.1.2"},
		{"refund made negative", *got[1].Value, -20.0},
		{"negative refund kept", *got[2].Value, -15.0},
		{"lead has no value", got[3].Value == nil, true},
		{"lead without touch has no channel", got[3].Channel, ""},
		{"offset timestamp in UTC", got[4].Timestamp, testNow},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if rec := h.postServer(batchBody("shop", sale)); decodeResult(t, rec).Duplicates != 1 {
		t.Errorf("resent sale not reported as duplicate: %s", rec.Body)
	}
}

func TestServerAPIAuth(t *testing.T) {
	body := batchBody("shop", serverEvent("a-1", testNow))
	tests := []struct {
		name       string
		auth       string
		body       []byte
		wantStatus int
	}{
		{"no header", "", body, http.StatusUnauthorized},
		{"basic auth", "Basic c2hvcDpwdw==", body, http.StatusUnauthorized},
		{"empty bearer", "Bearer ", body, http.StatusUnauthorized},
		{"wrong key", "Bearer nope", body, http.StatusUnauthorized},
		{"key prefix", "Bearer " + testIngestKey[:10], body, http.StatusUnauthorized},
		{"key of another site", "Bearer ingest-key-blog", body, http.StatusForbidden},
		{"unknown site", "Bearer " + testIngestKey, batchBody("nope", serverEvent("a-2", testNow)), http.StatusNotFound},
		{"lower-case scheme", "bearer " + testIngestKey, body, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withSites(testSite("shop"), testSite("blog")))
			rec := h.do(http.MethodPost, "/v1/events", tt.body, withHeader("Authorization", tt.auth))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
			}
			if tt.wantStatus != http.StatusOK && len(h.w.stored()) != 0 {
				t.Fatal("events stored from a refused request")
			}
		})
	}
	t.Run("site without key", func(t *testing.T) {
		s := testSite("shop")
		s.IngestKey = nil
		h := newHarness(t, withSites(s))
		if rec := h.do(http.MethodPost, "/v1/events", body, withHeader("Authorization", "Bearer ")); rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func TestServerAPIBadRequests(t *testing.T) {
	valid := serverEvent("v", testNow)
	wrongValue := serverEvent("w", testNow)
	wrongValue["value"] = "12"
	wrongTS := serverEvent("ts", testNow)
	wrongTS["timestamp"] = testNow.Unix()
	wrongUser := serverEvent("u", testNow)
	wrongUser["user"] = map[string]any{"email": []any{"a@b.c"}}
	max := make([]map[string]any, MaxServerEvents+1)
	for i := range max {
		max[i] = serverEvent(fmt.Sprint("m", i), testNow)
	}
	huge := serverEvent("huge", testNow)
	huge["properties"] = map[string]any{"x": strings.Repeat("a", MaxServerBody)}
	tests := []struct {
		name       string
		method     string
		body       []byte
		wantStatus int
		wantMsg    string
	}{
		{"broken json", http.MethodPost, []byte(`{"site":"shop",`), http.StatusBadRequest, "not valid JSON"},
		{"value string", http.MethodPost, batchBody("shop", valid, valid, valid, wrongValue), http.StatusBadRequest, "events[3].value: expected number, got string"},
		{"timestamp number", http.MethodPost, batchBody("shop", wrongTS), http.StatusBadRequest, "events[0].timestamp: expected string, got number"},
		{"user email array", http.MethodPost, batchBody("shop", wrongUser), http.StatusBadRequest, "events[0].user.email: expected string, got array"},
		{"501 events", http.MethodPost, batchBody("shop", max...), http.StatusBadRequest, "more than 500 events"},
		{"over 1 MiB", http.MethodPost, batchBody("shop", huge), http.StatusRequestEntityTooLarge, "too large"},
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed, "method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rec := h.do(tt.method, "/v1/events", tt.body, withHeader("Authorization", "Bearer "+testIngestKey))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if msg := errorMessage(t, rec); !strings.Contains(msg, tt.wantMsg) {
				t.Fatalf("error %q, want %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestServerAPIFullBatch(t *testing.T) {
	h := newHarness(t)
	evs := make([]map[string]any, MaxServerEvents)
	for i := range evs {
		evs[i] = serverEvent(fmt.Sprint("full-", i), testNow.Add(-time.Duration(i)*time.Minute))
		evs[i]["user"] = map[string]any{"email": fmt.Sprintf("buyer%d@example.com", i), "ip": "198.51.100.4", "user_agent": testUA}
	}
	body := batchBody("shop", evs...)
	if len(body) <= MaxBrowserBody {
		t.Fatalf("a full batch is only %d bytes; the test wants one over 64 KiB", len(body))
	}
	res := decodeResult(t, h.postServer(body))
	if res.Accepted != MaxServerEvents {
		t.Fatalf("result %+v", res)
	}
}

func TestServerAPIPartialRejection(t *testing.T) {
	h := newHarness(t)
	noTS := serverEvent("no-ts", testNow)
	delete(noTS, "timestamp")
	badTS := serverEvent("bad-ts", testNow)
	badTS["timestamp"] = "yesterday"
	old := serverEvent("old", testNow.Add(-73*time.Hour))
	badIP := serverEvent("bad-ip", testNow)
	badIP["user"] = map[string]any{"ip": "999.1.1.1"}
	negative := serverEvent("neg", testNow)
	negative["value"] = -1
	noName := serverEvent("no-name", testNow)
	delete(noName, "name")
	huge := serverEvent("huge", testNow)
	huge["value"] = 1.7e308
	hugeRefund := serverEvent("huge-refund", testNow)
	hugeRefund["name"], hugeRefund["value"] = "refund", 2e12

	res := decodeResult(t, h.postServer(batchBody("shop", serverEvent("ok", testNow), noTS, badTS, old, badIP, negative, noName, huge, hugeRefund)))
	want := map[int]string{1: ReasonInvalid, 2: ReasonInvalid, 3: ReasonTooOld, 4: ReasonInvalid, 5: ReasonInvalid, 6: ReasonInvalid, 7: ReasonInvalid, 8: ReasonInvalid}
	if res.Accepted != 1 || len(res.Rejected) != len(want) {
		t.Fatalf("result %+v", res)
	}
	for _, r := range res.Rejected {
		if want[r.Index] != r.Reason {
			t.Errorf("rejected %+v, want reason %q", r, want[r.Index])
		}
	}
	if res.Rejected[0].Detail != "timestamp: required (RFC 3339)" {
		t.Errorf("detail %q", res.Rejected[0].Detail)
	}
	if d := res.Rejected[6].Detail; !strings.Contains(d, "value: larger than 1e12") {
		t.Errorf("detail of a value of 1.7e308: %q", d)
	}
}

func TestServerAPIJoinsBrowserIdentity(t *testing.T) {
	h := newHarness(t)
	rec := h.postBatch(batchBody("shop", browserEvent("visit", testNow)))
	cookie := visitorCookie(t, rec.Header())
	browser := h.w.stored()[0]

	// The site's backend read the _tsv cookie from its own request and
	// passes it verbatim.
	h.clock.set(testNow.Add(10 * time.Minute))
	sale := serverEvent("sale", testNow.Add(10*time.Minute))
	sale["visitor_id"] = cookie.Value
	decodeResult(t, h.postServer(batchBody("shop", sale)))
	got := h.w.stored()[1]
	if got.VisitorID != browser.VisitorID || got.SessionID != browser.SessionID || got.Channel != browser.Channel {
		t.Fatalf("server event %q/%q/%q, browser %q/%q/%q", got.VisitorID, got.SessionID, got.Channel,
			browser.VisitorID, browser.SessionID, browser.Channel)
	}
}

func TestServerAPICookielessVisitor(t *testing.T) {
	h := newHarness(t, withSites(testSite("shop", func(c *config.Runtime) { c.Tracker.Cookieless = true })))
	decodeResult(t, h.postBatch(batchBody("shop", browserEvent("visit", testNow))))
	sale := serverEvent("sale", testNow.Add(5*time.Minute))
	sale["user"] = map[string]any{"ip": "203.0.113.77", "user_agent": testUA}
	decodeResult(t, h.postServer(batchBody("shop", sale)))
	evs := h.w.stored()
	if evs[1].VisitorID != evs[0].VisitorID || evs[1].SessionID != evs[0].SessionID {
		t.Fatalf("server event did not join the cookieless visitor: %+v vs %+v", evs[1].VisitorID, evs[0].VisitorID)
	}
}

func TestServerAPIRateLimit(t *testing.T) {
	l := unlimited()
	l.ServerEventsPerSecond, l.ServerBurst = 1, MaxServerEvents
	h := newHarness(t, withLimits(l))
	evs := make([]map[string]any, MaxServerEvents)
	for i := range evs {
		evs[i] = serverEvent(fmt.Sprint("rl-", i), testNow)
	}
	if rec := h.postServer(batchBody("shop", evs...)); rec.Code != http.StatusOK {
		t.Fatalf("first: %d", rec.Code)
	}
	rec := h.postServer(batchBody("shop", serverEvent("one-more", testNow)))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	// Browser traffic has its own bucket.
	if rec := h.postBatch(batchBody("shop", browserEvent("b", testNow))); rec.Code != http.StatusOK {
		t.Fatalf("browser: %d", rec.Code)
	}
}

func TestServerAPIResponseShape(t *testing.T) {
	h := newHarness(t)
	bad := serverEvent("bad", testNow)
	bad["currency"] = "dollars"
	rec := h.postServer(batchBody("shop", serverEvent("good", testNow), bad))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"accepted", "duplicates", "rejected"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("response lacks %q: %s", k, rec.Body)
		}
	}
	want := `[{"index":1,"event_id":"bad","reason":"invalid","detail":"currency: must be a three-letter ISO 4217 code"}]`
	if string(raw["rejected"]) != want {
		t.Errorf("rejected = %s\nwant %s", raw["rejected"], want)
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestServerAPIGzipBodies(t *testing.T) {
	evs := make([]map[string]any, MaxServerEvents)
	for i := range evs {
		evs[i] = serverEvent(fmt.Sprint("gz-", i), testNow)
	}
	bomb := gzipped(t, append([]byte(`{"site":"shop","events":[],"pad":"`), bytes.Repeat([]byte("a"), 2*MaxServerBody)...))
	tests := []struct {
		name       string
		encoding   string
		body       []byte
		wantStatus int
	}{
		{"gzip batch", "gzip", gzipped(t, batchBody("shop", evs...)), http.StatusOK},
		{"bomb over the limit once inflated", "gzip", bomb, http.StatusRequestEntityTooLarge},
		{"not gzip", "gzip", []byte("plain text"), http.StatusBadRequest},
		{"truncated gzip", "gzip", gzipped(t, batchBody("shop", evs[0]))[:20], http.StatusBadRequest},
		{"brotli", "br", []byte("x"), http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rec := h.postServer(tt.body, withHeader("Content-Encoding", tt.encoding))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == http.StatusOK && len(h.w.stored()) != MaxServerEvents {
				t.Fatalf("stored %d", len(h.w.stored()))
			}
		})
	}
}

// TestServerAPIPlatformHashVariants checks that a raw email and phone are
// also hashed in Google's and E.164 form, and that variants a backend hashed
// itself are accepted only as digests.
func TestServerAPIPlatformHashVariants(t *testing.T) {
	digest := strings.Repeat("d", 64)
	tests := []struct {
		name       string
		user       map[string]any
		want       event.User
		wantDetail string
	}{
		{name: "raw gmail and national phone",
			user: map[string]any{"email": "Jo.E.Smith+promo@Gmail.com", "phone": "(800)555-0100", "country": "US"},
			want: event.User{
				EmailSHA256: enrich.SHA256Hex("jo.e.smith+promo@gmail.com"), EmailGoogleSHA256: enrich.SHA256Hex("joesmith@gmail.com"),
				PhoneSHA256: enrich.SHA256Hex("18005550100"), PhoneE164SHA256: enrich.SHA256Hex("+18005550100"),
				CountrySHA256: enrich.SHA256Hex("us"),
			}},
		{name: "raw non-gmail keeps one email hash",
			user: map[string]any{"email": "user.name+NYC@Example.com"},
			want: event.User{EmailSHA256: enrich.SHA256Hex("user.name+nyc@example.com")}},
		{name: "digests with explicit variants",
			user: map[string]any{"email": strings.Repeat("a", 64), "em_google": strings.ToUpper(digest), "phone": strings.Repeat("b", 64), "ph_e164": digest},
			want: event.User{EmailSHA256: strings.Repeat("a", 64), EmailGoogleSHA256: digest, PhoneSHA256: strings.Repeat("b", 64), PhoneE164SHA256: digest}},
		{name: "raw value in em_google rejected",
			user:       map[string]any{"email": strings.Repeat("a", 64), "em_google": "joesmith@gmail.com"},
			wantDetail: "user.em_google: must be a SHA-256 hex digest (64 hex digits)"},
		{name: "raw value in ph_e164 rejected",
			user:       map[string]any{"ph_e164": "+18005550100"},
			wantDetail: "user.ph_e164: must be a SHA-256 hex digest (64 hex digits)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			ev := serverEvent("sale-1", testNow)
			ev["user"] = tt.user
			res := decodeResult(t, h.postServer(batchBody("shop", ev)))
			if tt.wantDetail != "" {
				if len(res.Rejected) != 1 || res.Rejected[0].Detail != tt.wantDetail {
					t.Fatalf("result %+v, want rejection %q", res, tt.wantDetail)
				}
				return
			}
			if res.Accepted != 1 {
				t.Fatalf("result %+v", res)
			}
			if got := h.w.stored()[0].User; got != tt.want {
				t.Fatalf("user = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
