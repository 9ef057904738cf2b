package standalone

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
)

func TestEventsPage(t *testing.T) {
	v := 49.9
	store := &fakeRecent{events: []event.Event{{
		Site: "shop", EventID: "e-1", Type: event.TypeConversion, Name: "purchase", ReceivedAt: time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC),
		URL: "https://shop.example.com/checkout?gclid=abc", UTM: event.UTM{Source: "google", Medium: "cpc"},
		ClickIDs: map[string]string{"gclid": "abc"}, Value: &v, Currency: "EUR", VisitorID: "0123456789abcdef",
		IP: "203.0.113.0", User: event.User{EmailSHA256: "secret-hash"},
	}, {
		Site: "shop", EventID: "<script>alert(1)</script>", Type: event.TypeCustom, Name: "x",
	}}}
	sites := []*config.Runtime{{Site: config.Site{Name: "shop"}}, {Site: config.Site{Name: "blog"}}}
	page := NewEventsPage(store, sites, NewAdmin([]byte("pw")), nil)
	navigate := map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none"}
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for k2, v2 := range m {
			if k2 != k {
				out[k2] = v2
			}
		}
		return out
	}
	for _, tc := range []struct {
		name, target, pass string
		header             map[string]string
		status             int
		want               []string
	}{
		{"no credentials", "/admin/events", "", navigate, http.StatusUnauthorized, nil},
		{"wrong password", "/admin/events", "nope", navigate, http.StatusUnauthorized, nil},
		{"a page's fetch", "/admin/events", "pw", with(navigate, "Sec-Fetch-Mode", "cors"), http.StatusForbidden, nil},
		{"a frame", "/admin/events", "pw", with(navigate, "Sec-Fetch-Dest", "iframe"), http.StatusForbidden, nil},
		{"default site", "/admin/events", "pw", navigate, http.StatusOK, []string{
			"<td>2026-12-02 03:04:05</td>", "<td>purchase</td>", "<td>/checkout</td>", "<td>google / cpc</td>",
			"<td>gclid=abc</td>", "<td>49.9 EUR</td>", "<td>01234567</td>", "<td>e-1</td>", `aria-current="page">shop</a>`,
			`href="/">demo page of shop`, "&lt;script&gt;alert(1)&lt;/script&gt;",
		}},
		{"a client without fetch metadata (curl)", "/admin/events?site=blog", "pw", nil, http.StatusOK, []string{
			`aria-current="page">blog</a>`, `href="/try/blog/">demo page of blog`,
		}},
		{"unknown site", "/admin/events?site=nope", "pw", navigate, http.StatusNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.pass != "" {
				r.SetBasicAuth(AdminUser, tc.pass)
			}
			rec := httptest.NewRecorder()
			page.ServeHTTP(rec, r)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %.300s", rec.Code, tc.status, body)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if tc.status == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") != `Basic realm="trackstack events page", charset="UTF-8"` {
				t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
			}
			if tc.status != http.StatusOK {
				if strings.Contains(body, "purchase") {
					t.Errorf("refused, yet shows events: %.300s", body)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %s", w)
				}
			}
			if strings.Contains(body, "secret-hash") || strings.Contains(body, "<script") {
				t.Errorf("page shows matching data or has a script: %s", body)
			}
			// The style's nonce is the policy's.
			m := regexp.MustCompile(`<style nonce="([^"]+)">`).FindStringSubmatch(body)
			if m == nil || !strings.Contains(csp, "style-src 'nonce-"+m[1]+"'") {
				t.Errorf("style nonce %v, policy %q", m, csp)
			}
		})
	}

	store.err = errors.New("disk on fire")
	r := httptest.NewRequest(http.MethodGet, "/admin/events", nil)
	r.SetBasicAuth(AdminUser, "pw")
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, r)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "fire") {
		t.Errorf("store error: %d %s", rec.Code, rec.Body)
	}
}
