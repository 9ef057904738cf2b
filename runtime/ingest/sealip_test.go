package ingest

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/sealing"
)

var testSealingKey = strings.Repeat("5e", sealing.KeySize)

// withDestinations gives the test site destinations of the given types.
func withDestinations(types ...string) func(*config.Runtime) {
	return func(c *config.Runtime) {
		for _, t := range types {
			c.Destinations = append(c.Destinations, config.Destination{Name: "d-" + t, Type: t})
		}
	}
}

// TestRawIPSealedForIPMatchingDestinations checks that browser and server
// events of a site with a meta or tiktok destination carry the raw IP
// sealed with the site's key, and that other sites keep no raw IP at all.
func TestRawIPSealedForIPMatchingDestinations(t *testing.T) {
	key, err := sealing.ParseKey([]byte(testSealingKey))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		types  []string
		sealed bool
	}{
		{"meta", []string{"meta"}, true},
		{"tiktok beside ga4", []string{"ga4", "tiktok"}, true},
		{"ga4 only", []string{"ga4"}, false},
		{"no destination", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := testSite("shop", withDestinations(tt.types...))
			site.IPSealingKey = []byte(testSealingKey)
			h := newHarness(t, withSites(site))
			if res := decodeResult(t, h.postBatch(batchBody("shop", browserEvent("b-1", testNow)))); res.Accepted != 1 {
				t.Fatalf("browser result %+v", res)
			}
			srv := serverEvent("s-1", testNow)
			srv["user"] = map[string]any{"ip": "2001:db8:1234:5678::9", "user_agent": testUA}
			noIP := serverEvent("s-2", testNow)
			if res := decodeResult(t, h.postServer(batchBody("shop", srv, noIP))); res.Accepted != 2 {
				t.Fatalf("server result %+v", res)
			}
			stored := h.w.stored()
			for _, ev := range stored[:2] {
				if !tt.sealed {
					if ev.RawIPSealed != nil {
						t.Errorf("%s: raw IP sealed for a site without IP-matching destination", ev.EventID)
					}
					continue
				}
				ip, err := key.Open(ev.RawIPSealed)
				if err != nil || string(ip) != ev.RawIP || ev.RawIP == "" {
					t.Errorf("%s: sealed IP opens to %q, %v; want %q", ev.EventID, ip, err, ev.RawIP)
				}
				if strings.Contains(hex.EncodeToString(ev.RawIPSealed), hex.EncodeToString([]byte(ev.RawIP))) {
					t.Errorf("%s: sealed value holds the IP in the clear", ev.EventID)
				}
			}
			if stored[2].RawIPSealed != nil {
				t.Error("server event without user.ip has a sealed IP")
			}
		})
	}
}

func TestIPSealingKeyRequiredForIPMatchingDestinations(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		types   []string
		wantErr string
	}{
		{"meta without key", "", []string{"meta"}, "needs the IP sealing key (key ipSealingKey)"},
		{"tiktok with short key", "c2hvcnQ=", []string{"tiktok"}, "key ipSealingKey: key is 5 bytes, want 32"},
		{"ga4 without key", "", []string{"ga4"}, ""},
		{"meta with key", testSealingKey, []string{"meta"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := testSite("shop", withDestinations(tt.types...))
			site.IPSealingKey = []byte(tt.key)
			_, err := New(Options{Sites: []Site{site}, Writer: &memWriter{}, Script: nil})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New() error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New() error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
