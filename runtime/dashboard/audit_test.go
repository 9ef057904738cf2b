package dashboard

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/dashboard/auth"
	"github.com/trackstack/trackstack/runtime/store"
)

const (
	auditOrigin   = "https://dash.example"
	auditPassword = "correct horse battery staple"
)

// testClock is the sign-in's clock, moved by the test so that each audit
// entry has its own time.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// auditDashboard is the dashboard of site shop as New builds it, signing
// in with the real auth package and auditing into log.
type auditDashboard struct {
	h     http.Handler
	clock *testClock
}

func newAuditDashboard(t *testing.T, analytics store.Analytics, log store.AuditLog, logger *slog.Logger) *auditDashboard {
	t.Helper()
	keys := t.TempDir()
	for name, v := range map[string]string{config.KeyAdminPassword: auditPassword + "\n", config.KeySigning: "a signing key of the audit test"} {
		if err := os.WriteFile(filepath.Join(keys, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clock := &testClock{t: fixtureNow}
	a, err := auth.New(auth.Options{Site: "shop", KeysDir: keys, PublicURL: auditOrigin, Now: clock.Now,
		Audit: &StoreAudit{Log: log, Logger: logger}})
	if err != nil {
		t.Fatal(err)
	}
	guard, err := auth.NewGuard(a)
	if err != nil {
		t.Fatal(err)
	}
	h := New(Options{Sites: []Site{{Name: "shop"}}, Store: analytics, Audit: log, Guard: guard, Now: func() time.Time { return fixtureNow }})
	return &auditDashboard{h: h, clock: clock}
}

func (d *auditDashboard) do(req *http.Request) *httptest.ResponseRecorder {
	req.RemoteAddr = "192.0.2.10:5555"
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, req)
	return rec
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// postLogin fetches the login form and posts it with user and password.
func (d *auditDashboard) postLogin(t *testing.T, user, password string) *httptest.ResponseRecorder {
	t.Helper()
	form := d.do(httptest.NewRequest("GET", auditOrigin+"/login", nil))
	m := csrfInput.FindStringSubmatch(form.Body.String())
	if form.Code != 200 || m == nil {
		t.Fatalf("GET /login = %d, no token in %q", form.Code, form.Body.String())
	}
	body := url.Values{"user": {user}, "password": {password}, auth.CSRFField: {m[1]}}
	req := httptest.NewRequest("POST", auditOrigin+"/login", strings.NewReader(body.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", auditOrigin)
	for _, c := range form.Result().Cookies() {
		req.AddCookie(c)
	}
	return d.do(req)
}

// signIn signs in as admin and returns the session cookie.
func (d *auditDashboard) signIn(t *testing.T) *http.Cookie {
	t.Helper()
	rec := d.postLogin(t, auth.AdminUser, auditPassword)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("POST /login with the password = %d %q", rec.Code, rec.Body.String())
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.SessionCookie && c.MaxAge >= 0 {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", rec.Result().Header["Set-Cookie"])
	return nil
}

func (d *auditDashboard) get(t *testing.T, path string, session *http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", auditOrigin+path, nil)
	req.AddCookie(session)
	return d.do(req)
}

// TestSignInsAreAuditedAndShown signs in the way people and scripts do,
// right and wrong, and finds each attempt in the store, the API (JSON and
// CSV) and the Audit page, without any password tried.
func TestSignInsAreAuditedAndShown(t *testing.T) {
	st := fixtureStore(t)
	d := newAuditDashboard(t, st, st, nil)
	const (
		triedPassword = "Tr0ub4dor&3-wrong"
		typedAsUser   = "hunter2-typed-into-user"
		basicPassword = "basic-wrong-Secret"
	)
	d.clock.Set(fixtureNow.Add(1 * time.Second))
	if rec := d.postLogin(t, auth.AdminUser, triedPassword); rec.Code != http.StatusUnauthorized {
		t.Fatalf("POST /login with a wrong password = %d", rec.Code)
	}
	d.clock.Set(fixtureNow.Add(2 * time.Second))
	if rec := d.postLogin(t, typedAsUser, triedPassword); rec.Code != http.StatusUnauthorized {
		t.Fatalf("POST /login with a wrong user = %d", rec.Code)
	}
	d.clock.Set(fixtureNow.Add(3 * time.Second))
	basic := httptest.NewRequest("GET", auditOrigin+"/api/v1/sites/shop/overview", nil)
	basic.SetBasicAuth(auth.AdminUser, basicPassword)
	if rec := d.do(basic); rec.Code != http.StatusUnauthorized {
		t.Fatalf("basic auth with a wrong password = %d", rec.Code)
	}
	d.clock.Set(fixtureNow.Add(4 * time.Second))
	session := d.signIn(t)

	want := []store.AuditEntry{
		{Site: "shop", At: fixtureNow.Add(4 * time.Second), Actor: "admin", Action: auth.ActionSignIn, Detail: "password"},
		{Site: "shop", At: fixtureNow.Add(3 * time.Second), Actor: "admin", Action: auth.ActionSignInFailed, Detail: "basic"},
		{Site: "shop", At: fixtureNow.Add(2 * time.Second), Actor: "", Action: auth.ActionSignInFailed, Detail: "password"},
		{Site: "shop", At: fixtureNow.Add(1 * time.Second), Actor: "admin", Action: auth.ActionSignInFailed, Detail: "password"},
	}
	stored, err := st.ListAudit(context.Background(), "shop", 100)
	if err != nil {
		t.Fatal(err)
	}
	assertEntries(t, "the store", stored, want)
	secrets := []string{triedPassword, typedAsUser, basicPassword, auditPassword}
	for _, e := range stored {
		for _, s := range secrets {
			if strings.Contains(e.Actor+e.Action+e.Detail, s) {
				t.Errorf("stored entry %+v holds %q, a password tried", e, s)
			}
		}
	}

	t.Run("API", func(t *testing.T) {
		rec := d.get(t, "/api/v1/sites/shop/audit", session)
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
		var got AuditReport
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		for i := range got.Entries {
			got.Entries[i].Site = "shop" // the site is the URL's, not in each entry
		}
		assertEntries(t, "the API", got.Entries, want)
		assertNoSecrets(t, "the API", rec.Body.String(), secrets)
	})
	t.Run("APILimit", func(t *testing.T) {
		rec := d.get(t, "/api/v1/sites/shop/audit?limit=1", session)
		if rec.Code != 200 || strings.Count(rec.Body.String(), `"action"`) != 1 || !strings.Contains(rec.Body.String(), `"action":"sign_in"`) {
			t.Fatalf("%d %s, want the newest entry only", rec.Code, rec.Body.String())
		}
	})
	t.Run("CSV", func(t *testing.T) {
		rec := d.get(t, "/api/v1/sites/shop/audit?format=csv", session)
		rows, err := csv.NewReader(rec.Body).ReadAll()
		if rec.Code != 200 || err != nil {
			t.Fatalf("%d %v", rec.Code, err)
		}
		if len(rows) != 1+len(want) || strings.Join(rows[0], ",") != "time,actor,action,detail" ||
			strings.Join(rows[2], ",") != fixtureNow.Add(3*time.Second).Format(time.RFC3339)+",admin,sign_in_failed,basic" {
			t.Errorf("CSV rows %v", rows)
		}
	})
	t.Run("Page", func(t *testing.T) {
		rec := d.get(t, "/sites/shop/audit", session)
		body := rec.Body.String()
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, body)
		}
		for _, fragment := range []string{
			`<a href="/sites/shop/audit" aria-current="page">Audit</a>`,
			`<th scope="col">time</th>`,
			`<td>2026-11-20T12:00:04Z</td><td>admin</td><td>sign_in</td><td>password</td>`,
			`<td>2026-11-20T12:00:03Z</td><td>admin</td><td>sign_in_failed</td><td>basic</td>`,
			`<td>2026-11-20T12:00:02Z</td><td></td><td>sign_in_failed</td><td>password</td>`,
			`href="/api/v1/sites/shop/audit?format=csv"`,
		} {
			if !strings.Contains(body, fragment) {
				t.Errorf("the Audit page lacks %s", fragment)
			}
		}
		assertNoSecrets(t, "the Audit page", body, secrets)
		// The range and filters select visits; the audit log ignores them.
		if strings.Contains(body, `class="filters"`) || strings.Contains(body, `class="num"`) {
			t.Errorf("the Audit page shows the filters form or numeric columns")
		}
		if overview := d.get(t, "/sites/shop/", session).Body.String(); !strings.Contains(overview, `class="filters"`) {
			t.Errorf("the overview lost its filters form")
		}
	})
	t.Run("Unauthenticated", func(t *testing.T) {
		rec := d.do(httptest.NewRequest("GET", auditOrigin+"/api/v1/sites/shop/audit", nil))
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("the audit report without a session = %d, want 401", rec.Code)
		}
	})
}

func assertEntries(t *testing.T, where string, got, want []store.AuditEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s has %d entries %+v, want %d %+v", where, len(got), got, len(want), want)
	}
	for i := range want {
		if got[i].Site != want[i].Site || !got[i].At.Equal(want[i].At) || got[i].Actor != want[i].Actor ||
			got[i].Action != want[i].Action || got[i].Detail != want[i].Detail {
			t.Errorf("%s entry %d = %+v, want %+v", where, i, got[i], want[i])
		}
	}
}

func assertNoSecrets(t *testing.T, where, body string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("%s shows %q, a password", where, s)
		}
	}
}

// brokenAudit is an audit log whose database is down.
type brokenAudit struct{ store.AuditLog }

func (brokenAudit) RecordAudit(context.Context, store.AuditEntry) error {
	return errors.New("database down")
}

// TestAuditPageWithoutEntries shows an empty audit log as such, not as a
// range without data.
func TestAuditPageWithoutEntries(t *testing.T) {
	st := fixtureStore(t)
	api := &API{Store: st, Audit: st, Now: func() time.Time { return fixtureNow }, Goals: map[string][]store.Goal{"shop": nil}}
	mux := http.NewServeMux()
	(&Pages{API: api}).Register(mux)
	if code, body := get(t, mux, "/sites/shop/audit"); code != 200 || !strings.Contains(body, "No entries yet.") {
		t.Errorf("an empty audit log: %d %s", code, body)
	}
}

// TestAuditFailureDoesNotBlockSignIn checks that a sign-in succeeds when its
// audit entry cannot be stored, and that the log says so without the actor.
func TestAuditFailureDoesNotBlockSignIn(t *testing.T) {
	var logs bytes.Buffer
	st := fixtureStore(t)
	d := newAuditDashboard(t, st, brokenAudit{st}, slog.New(slog.NewTextHandler(&logs, nil)))
	session := d.signIn(t)
	if rec := d.get(t, "/sites/shop/", session); rec.Code != 200 {
		t.Errorf("the overview after signing in = %d", rec.Code)
	}
	out := logs.String()
	if !strings.Contains(out, "cannot store an audit entry") || !strings.Contains(out, "action=sign_in") || !strings.Contains(out, "database down") {
		t.Errorf("log %q does not report the lost entry", out)
	}
	if strings.Contains(out, auditPassword) {
		t.Errorf("log %q holds the password", out)
	}
}

// TestAuditWithoutLog checks that a dashboard whose store keeps no audit
// log answers its audit report and page 404, not 500.
func TestAuditWithoutLog(t *testing.T) {
	api := &API{Store: fixtureStore(t), Now: func() time.Time { return fixtureNow }, Goals: map[string][]store.Goal{"shop": nil}}
	mux := http.NewServeMux()
	api.Register(mux)
	(&Pages{API: api}).Register(mux)
	for _, path := range []string{"/api/v1/sites/shop/audit", "/sites/shop/audit"} {
		if code, body := get(t, mux, path); code != http.StatusNotFound || !strings.Contains(body, "no audit log") {
			t.Errorf("%s: %d %s, want 404", path, code, body)
		}
	}
}
