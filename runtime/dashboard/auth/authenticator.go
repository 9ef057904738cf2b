package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/throttle"
)

// AdminUser is the user name of the password sign-in and of basic auth.
const AdminUser = "admin"

// Cookie names; with Options.SharedHost each gets "_<site>" appended.
const (
	SessionCookie = "ts_session"
	loginCookie   = "ts_login"
	oidcCookie    = "ts_oidc"
)

// Options configure New.
type Options struct {
	// Site is the name of the site whose dashboard this guards. Required.
	Site string
	// KeysDir holds the site's generated keys (config.KeyAdminPassword,
	// config.KeySigning), one file per key. Required.
	KeysDir string
	// Password, when set, is the admin password instead of the keysDir
	// file (standalone takes it from TRACKSTACK_ADMIN_PASSWORD or its data
	// directory). New hashes it and clears the slice.
	Password []byte
	// PublicURL is the dashboard's public URL (config Site.DashboardURL):
	// its origin is the only one state-changing requests may come from,
	// and OIDC redirects back under it. Empty takes the origin of each
	// request's Host, https unless InsecureCookies.
	PublicURL string
	// InsecureCookies drops the Secure flag of cookies. Only for a
	// standalone dashboard on plain-http localhost.
	InsecureCookies bool
	// SharedHost names cookies per site, for hosts serving several sites'
	// dashboards (standalone).
	SharedHost bool
	// OIDC enables sign-in with an OpenID Connect issuer; nil disables it.
	OIDC *OIDCOptions
	// ClientIP is the address failures are counted under; nil takes the
	// connection's peer. Behind an Ingress, pass one that believes the
	// ingress controller's X-Forwarded-For.
	ClientIP func(*http.Request) netip.Addr
	// Failures throttles wrong passwords; nil takes throttle's defaults.
	Failures *throttle.Failures
	// Audit records sign-ins and logouts; nil records nothing.
	Audit Audit
	// MaxSessions bounds the session table (DefaultMaxSessions if not
	// positive).
	MaxSessions int
	// Now is the clock; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Authenticator signs people into one site's dashboard. Build it with New.
// It holds the admin password only as a hash.
type Authenticator struct {
	site      string
	password  *passwordHash
	sessions  *sessions
	cookies   cookieSigner
	loginKey  []byte
	publicURL *url.URL
	secure    bool
	names     cookieNames
	oidc      *oidcLogin
	clientIP  func(*http.Request) netip.Addr
	failures  *throttle.Failures
	audit     Audit
	now       func() time.Time
	log       *slog.Logger
}

type cookieNames struct{ session, login, oidc string }

// New reads the site's admin password and signing key from o.KeysDir and
// returns the Authenticator of o.Site.
func New(o Options) (*Authenticator, error) {
	if o.Site == "" || o.KeysDir == "" {
		return nil, errors.New("auth: Site and KeysDir are required")
	}
	var pw *passwordHash
	var err error
	if len(o.Password) > 0 {
		pw, err = hashPassword(o.Password)
		clear(o.Password)
	} else {
		pw, err = readPasswordHash(filepath.Join(o.KeysDir, config.KeyAdminPassword))
	}
	if err != nil {
		return nil, err
	}
	signing, err := os.ReadFile(filepath.Join(o.KeysDir, config.KeySigning))
	if err != nil {
		return nil, fmt.Errorf("while reading the signing key: %w", err)
	}
	defer clear(signing)
	if len(signing) < 16 {
		return nil, fmt.Errorf("the signing key %s is shorter than 16 bytes", filepath.Join(o.KeysDir, config.KeySigning))
	}
	a := &Authenticator{
		site: o.Site, password: pw, sessions: newSessions(o.MaxSessions),
		cookies:  cookieSigner{key: deriveKey(signing, "dashboard-session")},
		loginKey: deriveKey(signing, "dashboard-login"),
		secure:   !o.InsecureCookies, names: cookieNamesFor(o.Site, o.SharedHost),
		clientIP: o.ClientIP, failures: o.Failures, audit: o.Audit, now: o.Now, log: o.Logger,
	}
	if o.PublicURL != "" {
		if a.publicURL, err = parsePublicURL(o.PublicURL); err != nil {
			return nil, err
		}
	}
	if o.OIDC != nil {
		if a.oidc, err = newOIDCLogin(*o.OIDC, deriveKey(signing, "dashboard-oidc")); err != nil {
			return nil, err
		}
	}
	a.defaults()
	return a, nil
}

func (a *Authenticator) defaults() {
	if a.clientIP == nil {
		a.clientIP = peerAddr
	}
	if a.failures == nil {
		a.failures = throttle.New(0, 0, 0)
	}
	if a.audit == nil {
		a.audit = discardAudit{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
}

func cookieNamesFor(site string, shared bool) cookieNames {
	n := cookieNames{session: SessionCookie, login: loginCookie, oidc: oidcCookie}
	if shared {
		n.session += "_" + site
		n.login += "_" + site
		n.oidc += "_" + site
	}
	return n
}

func parsePublicURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("auth: the dashboard URL %q is not an absolute http(s) URL", s)
	}
	return u, nil
}

// peerAddr is the connection's peer; an unparsable one counts as the zero
// address.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

// Site is the site a is the sign-in of.
func (a *Authenticator) Site() string { return a.site }

// cookie returns a cookie of a's attributes.
func (a *Authenticator) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		Secure: a.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// expireCookie deletes cookie name in the browser.
func (a *Authenticator) expireCookie(w http.ResponseWriter, name string) {
	c := a.cookie(name, "", 0)
	c.MaxAge = -1
	http.SetCookie(w, c)
}
