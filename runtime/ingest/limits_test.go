package ingest

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/trackstack/trackstack/runtime/config"
)

// withoutLimitOverride lets each site's configuration set its limits, as in
// `trackstack collect` and standalone.
func withoutLimitOverride() harnessOption { return func(o *Options) { o.Limits = nil } }

func limitsOf(l config.Limits) func(*config.Runtime) {
	return func(c *config.Runtime) { c.Limits = &l }
}

func TestConfiguredLimitsApplyPerSite(t *testing.T) {
	strict := config.DefaultLimits()
	strict.IPRequestsPerSecond, strict.IPBurst = 1, 2
	strict.ServerEventsPerSecond, strict.ServerBurst = 1, 1 // the burst is raised to one full request
	// Rates set, bursts 0: a burst of 0 is unlimited, as a rate of 0 is.
	open := config.DefaultLimits()
	open.IPBurst, open.BrowserBurst, open.ServerBurst = 0, 0, 0
	h := newHarness(t, withoutLimitOverride(), withSites(testSite("shop", limitsOf(strict)), testSite("blog", limitsOf(open))))

	// Browser: the strict site's client is refused after its burst of 2;
	// the same client on the unlimited site (same tracker path) is not.
	for i := range 3 {
		rec := h.postBatch(batchBody("shop", browserEvent("s"+strconv.Itoa(i), testNow)))
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if rec.Code != want {
			t.Fatalf("shop request %d: %d %s, want %d", i+1, rec.Code, rec.Body, want)
		}
		if want == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	for i := range 50 {
		rec := h.postBatch(batchBody("blog", browserEvent("b"+strconv.Itoa(i), testNow)), withHeader("Origin", "https://blog.example.com"))
		if rec.Code != http.StatusOK {
			t.Fatalf("unlimited site refused request %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}

	// Server API: one full request passes the strict site's bucket, the
	// next waits for it to refill.
	full := make([]map[string]any, MaxServerEvents)
	for i := range full {
		full[i] = serverEvent("order-"+strconv.Itoa(i), testNow)
	}
	if rec := h.postServer(batchBody("shop", full...)); rec.Code != http.StatusOK {
		t.Fatalf("first full request: %d %s", rec.Code, rec.Body)
	}
	if rec := h.postServer(batchBody("shop", serverEvent("order-x", testNow))); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("over the configured server limit: %d %s, want 429", rec.Code, rec.Body)
	}
}

func TestDefaultServerLimitIsAtLeastTheDesignLoad(t *testing.T) {
	if l := DefaultLimits(); l.ServerEventsPerSecond < 50_000 {
		t.Errorf("default server limit %v events/s is below the collector's design load of 50,000", l.ServerEventsPerSecond)
	}
}

func TestWrongIngestKeysAreThrottled(t *testing.T) {
	h := newHarness(t)
	body := batchBody("shop", serverEvent("order-1", testNow))
	wrong := withHeader("Authorization", "Bearer not-the-key")
	var last *int
	for i := range 30 {
		rec := h.postServer(body, wrong)
		if rec.Code == http.StatusTooManyRequests {
			if rec.Header().Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			last = &i
			break
		}
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if last == nil {
		t.Fatal("30 wrong ingest keys in a row were never throttled")
	}
	// While throttled, even the right key is refused from that address,
	// so the answers cannot confirm a guess ...
	if rec := h.postServer(body); rec.Code != http.StatusTooManyRequests {
		t.Errorf("right key from a throttled address: %d, want 429", rec.Code)
	}
	// ... but another client is not held up by it.
	if rec := h.postServer(body, withRemote("198.51.100.9:4000")); rec.Code != http.StatusOK {
		t.Errorf("another client: %d %s", rec.Code, rec.Body)
	}
}
