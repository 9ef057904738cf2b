package standalone

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestDashboardAuditsSignIns signs into the standalone dashboard of site
// blog (a wrong basic-auth password, then the login form) and finds both in
// that site's audit report and Audit page, and neither in shop's.
func TestDashboardAuditsSignIns(t *testing.T) {
	s := newServer(t, noEnv)
	run(t, s)
	u := s.URL()
	password := string(s.Keys().AdminPassword)
	const wrong = "not-the-Password-42"
	if code, _ := do(t, "GET", u+"/api/v1/sites/blog/overview", "", map[string]string{"Authorization": "Basic " + basic("admin", wrong)}); code != http.StatusUnauthorized {
		t.Fatalf("wrong basic password: %d, want 401", code)
	}
	client := signIn(t, u, "blog", password)

	res, err := client.Get(u + "/api/v1/sites/blog/audit")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var report struct {
		Entries []struct{ Actor, Action, Detail string }
	}
	if err := json.Unmarshal(body, &report); res.StatusCode != 200 || err != nil {
		t.Fatalf("audit report: %d %s %v", res.StatusCode, body, err)
	}
	want := []struct{ Actor, Action, Detail string }{{"admin", "sign_in", "password"}, {"admin", "sign_in_failed", "basic"}}
	if len(report.Entries) != len(want) || report.Entries[0] != want[0] || report.Entries[1] != want[1] {
		t.Errorf("blog's audit entries %+v, want %+v", report.Entries, want)
	}
	if strings.Contains(string(body), wrong) || strings.Contains(string(body), password) {
		t.Errorf("the audit report holds a password: %s", body)
	}

	res, err = client.Get(u + "/sites/blog/audit")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "<td>admin</td><td>sign_in_failed</td><td>basic</td>") {
		t.Errorf("blog's Audit page: %d, want the failed basic sign-in in %.300s", res.StatusCode, page)
	}

	admin := map[string]string{"Authorization": "Basic " + basic("admin", password)}
	if code, body := do(t, "GET", u+"/api/v1/sites/shop/audit", "", admin); code != 200 || body != "{\"entries\":[]}\n" {
		t.Errorf("shop's audit report: %d %s, want no entries (the sign-ins were blog's)", code, body)
	}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs into site's dashboard with the login form and returns a
// client that holds the session cookie.
func signIn(t *testing.T, base, site, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(base + "/login?site=" + site)
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfInput.FindSubmatch(form)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("GET /login: %d, no token in %.300s", res.StatusCode, form)
	}
	v := url.Values{"site": {site}, "user": {"admin"}, "password": {password}, "csrf_token": {string(m[1])}}
	req, err := http.NewRequest("POST", base+"/login", strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login: %d, want 303", res.StatusCode)
	}
	return client
}
