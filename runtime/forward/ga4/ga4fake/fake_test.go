package ga4fake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/forward/ga4/ga4fake"
)

const query = "?measurement_id=G-X1234&api_secret=sec"

func post(t *testing.T, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec
}

func events(n int, name string) string {
	evs := make([]string, n)
	for i := range evs {
		evs[i] = fmt.Sprintf(`{"name":%q,"params":{"value":1,"currency":"EUR"}}`, name)
	}
	return `{"client_id":"1.2","events":[` + strings.Join(evs, ",") + `]}`
}

func TestFakeRejectsWhatGA4Rejects(t *testing.T) {
	old := time.Now().Add(-73 * time.Hour).UnixMicro()
	tests := []struct {
		name, body, code string
	}{
		{"unknown field", `{"client_id":"1.2","clientId":"x","events":[{"name":"purchase"}]}`, "VALUE_INVALID"},
		{"no client_id", `{"events":[{"name":"purchase"}]}`, "VALUE_REQUIRED"},
		{"no events", `{"client_id":"1.2","events":[]}`, "VALUE_REQUIRED"},
		{"26 events", events(26, "purchase"), "EXCEEDED_MAX_ENTITIES"},
		{"reserved name", events(1, "page_view"), "NAME_RESERVED"},
		{"reserved prefix", events(1, "firebase_x"), "NAME_RESERVED"},
		{"dash in name", events(1, "big-sale"), "NAME_INVALID"},
		{"name of 41", events(1, strings.Repeat("a", 41)), "VALUE_OUT_OF_BOUNDS"},
		{"param value of 101", `{"client_id":"1.2","events":[{"name":"purchase","params":{"transaction_id":"` + strings.Repeat("x", 101) + `"}}]}`, "VALUE_OUT_OF_BOUNDS"},
		{"param name reserved", `{"client_id":"1.2","events":[{"name":"purchase","params":{"ga_x":"1"}}]}`, "NAME_RESERVED"},
		{"value as string", `{"client_id":"1.2","events":[{"name":"purchase","params":{"value":"1"}}]}`, "VALUE_INVALID"},
		{"26 params", `{"client_id":"1.2","events":[{"name":"purchase","params":{` + params(26) + `}}]}`, "EXCEEDED_MAX_ENTITIES"},
		{"older than 72h", fmt.Sprintf(`{"client_id":"1.2","events":[{"name":"purchase","timestamp_micros":%d}]}`, old), "VALUE_OUT_OF_BOUNDS"},
		{"consent value", `{"client_id":"1.2","consent":{"ad_user_data":"granted"},"events":[{"name":"purchase"}]}`, "VALUE_INVALID"},
		{"unhashed email", `{"client_id":"1.2","user_data":{"sha256_email_address":["a@b.c"]},"events":[{"name":"purchase"}]}`, "VALUE_INVALID"},
		{"body of 130 kB", `{"client_id":"1.2","events":[{"name":"purchase","params":{"x":"` + strings.Repeat("y", 130_000) + `"}}]}`, "VALUE_OUT_OF_BOUNDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ga4fake.New("G-X1234", "sec")
			rec := post(t, f, "/debug/mp/collect"+query, tt.body)
			var answer struct{ ValidationMessages []ga4fake.Message }
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
				t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
			}
			if !hasCode(answer.ValidationMessages, tt.code) {
				t.Errorf("validation messages %+v, want %s", answer.ValidationMessages, tt.code)
			}
			rec = post(t, f, "/mp/collect"+query, tt.body)
			if rec.Code != http.StatusNoContent {
				t.Errorf("/mp/collect answered %d, want 204 like GA4", rec.Code)
			}
			if len(f.Violations()) == 0 || len(f.Events()) != 0 {
				t.Errorf("violations %v, events %d: want the violation recorded and nothing accepted", f.Violations(), len(f.Events()))
			}
		})
	}
}

func params(n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf(`"p%d":1`, i)
	}
	return strings.Join(ps, ",")
}

func hasCode(msgs []ga4fake.Message, code string) bool {
	for _, m := range msgs {
		if m.ValidationCode == code {
			return true
		}
	}
	return false
}

func TestFakeAcceptsAValidRequest(t *testing.T) {
	f := ga4fake.New("G-X1234", "sec")
	rec := post(t, f, "/debug/mp/collect"+query, events(25, "purchase"))
	if !strings.Contains(rec.Body.String(), `"validationMessages":[]`) {
		t.Errorf("debug answer %s, want no messages", rec.Body)
	}
	if rec := post(t, f, "/mp/collect"+query, events(25, "purchase")); rec.Code != http.StatusNoContent {
		t.Fatalf("status %d", rec.Code)
	}
	if len(f.Events()) != 25 || len(f.Violations()) != 0 {
		t.Errorf("events %d violations %v", len(f.Events()), f.Violations())
	}
}

func TestFakeDropsAWrongSecretSilently(t *testing.T) {
	f := ga4fake.New("G-X1234", "sec")
	rec := post(t, f, "/mp/collect?measurement_id=G-X1234&api_secret=wrong", events(1, "purchase"))
	if rec.Code != http.StatusNoContent || f.Dropped() != 1 || len(f.Events()) != 0 {
		t.Errorf("status %d dropped %d events %d", rec.Code, f.Dropped(), len(f.Events()))
	}
}

func TestFakeFailNext(t *testing.T) {
	f := ga4fake.New("G-X1234", "sec")
	f.FailNext(2, http.StatusTooManyRequests, 5*time.Second)
	for range 2 {
		rec := post(t, f, "/mp/collect"+query, events(1, "purchase"))
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "5" {
			t.Fatalf("status %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	if rec := post(t, f, "/mp/collect"+query, events(1, "purchase")); rec.Code != http.StatusNoContent {
		t.Errorf("third request: %d", rec.Code)
	}
	if f.Requests() != 3 {
		t.Errorf("requests = %d", f.Requests())
	}
}
