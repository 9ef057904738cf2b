package ingest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
)

// Visitor identity.
//
// With cookies, the collector sets _tsv itself (HttpOnly, so page scripts
// and their third parties cannot read it; Secure; SameSite=Lax). A cookie
// set by a server on the site's own host survives browsers' caps on
// script-set cookies, so it lives FirstPartyCookieAge (400 days, the most
// Chrome and the cookie RFC draft allow) when the request reached the
// collector on one of the site's domains or its tracker.firstPartyHost. On
// any other host the cookie is third-party to the page; browsers block or
// cap those, so it gets OtherCookieAge (7 days, Safari's cap) and the
// cookieless id is the realistic fallback: serve the collector first-party.
// Path=/ lets the site's own backend read the cookie from its requests and
// pass it to /v1/events as visitor_id, which joins server events to the
// browser journey.
//
// The value is a 128-bit random id, signed with the site's signing key
// ("<id>.<mac>") so a client cannot pick someone else's id; a cookie whose
// signature fails is replaced by a new id.
//
// Cookieless (tracker.cookieless, or consent withholding analytics
// storage): the id is a salted hash of (site, IP, user agent) under a salt
// derived from the site's visitor salt key and the UTC date, so ids rotate
// daily and cannot be linked across days. No cookie is read or set.
const (
	// CookieName is the visitor cookie.
	CookieName = "_tsv"
	// FirstPartyCookieAge is the cookie lifetime on a first-party host.
	FirstPartyCookieAge = 400 * 24 * time.Hour
	// OtherCookieAge is the cookie lifetime on any other host.
	OtherCookieAge = 7 * 24 * time.Hour

	secondsPerDay = 24 * 60 * 60
	visitorIDLen  = 32 // hex of 16 bytes
)

// ConsentOptIn is the config.Tracker.ConsentMode that needs consent before
// anything is stored in the browser.
const ConsentOptIn = "optIn"

// cookieAllowed says whether the visitor's consent permits the cookie under
// the site's consent mode: optIn needs analytics_storage granted; other
// modes set it unless analytics_storage is denied.
func cookieAllowed(mode string, c event.Consent) bool {
	if mode == ConsentOptIn {
		return c.AnalyticsStorage == event.Granted
	}
	return c.AnalyticsStorage != event.Denied
}

// browserVisitor returns the visitor id of a browser request and the
// Set-Cookie value to answer with ("" for none).
func (s *siteState) browserVisitor(r *http.Request, ip netip.Addr, ua string, consent event.Consent, now time.Time) (visitor, setCookie string, err error) {
	if s.cookieless || !cookieAllowed(s.consent, consent) {
		return s.cookielessID(ip, ua, now), "", nil
	}
	if c, cerr := r.Cookie(CookieName); cerr == nil {
		if id, ok := s.verifyCookie(c.Value); ok {
			return id, s.cookieHeader(c.Value, r), nil
		}
	}
	id, err := newVisitorID()
	if err != nil {
		return "", "", err
	}
	return id, s.cookieHeader(s.cookieValue(id), r), nil
}

func newVisitorID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func (s *siteState) cookieMAC(id string) string {
	mac := s.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write([]byte("tsv1\x00" + s.name + "\x00" + id))
	var sum [sha256.Size]byte
	out := base64.RawURLEncoding.EncodeToString(mac.Sum(sum[:0])[:16])
	s.macs.Put(mac)
	return out
}

func (s *siteState) cookieValue(id string) string {
	if len(s.signingKey) == 0 {
		return id
	}
	return id + "." + s.cookieMAC(id)
}

// verifyCookie returns the visitor id of a cookie value we issued.
func (s *siteState) verifyCookie(v string) (string, bool) {
	id, mac, signed := strings.Cut(v, ".")
	if len(id) != visitorIDLen || !isHex(id) {
		return "", false
	}
	if len(s.signingKey) == 0 {
		return id, !signed
	}
	if !signed || !hmac.Equal([]byte(mac), []byte(s.cookieMAC(id))) {
		return "", false
	}
	return id, true
}

// serverVisitor accepts a visitor id from a backend: a raw _tsv cookie value
// that verifies is reduced to its id; anything else is taken as given.
func (s *siteState) serverVisitor(v string) string {
	if strings.IndexByte(v, '.') > 0 {
		if id, ok := s.verifyCookie(v); ok {
			return id
		}
	}
	return v
}

func (s *siteState) cookieHeader(value string, r *http.Request) string {
	age := OtherCookieAge
	if s.firstPartyHost(r.Host) {
		age = FirstPartyCookieAge
	}
	return CookieName + "=" + value + "; Path=/; Max-Age=" + strconv.Itoa(int(age/time.Second)) +
		"; HttpOnly; Secure; SameSite=Lax"
}

// firstPartyHost reports whether the request's Host is the site's own.
func (s *siteState) firstPartyHost(hostport string) bool {
	host := hostport
	if h, _, ok := strings.Cut(hostport, ":"); ok && !strings.HasPrefix(hostport, "[") {
		host = h
	}
	host = strings.ToLower(host)
	if s.firstParty != "" && host == s.firstParty {
		return true
	}
	for _, d := range s.domains {
		if enrich.HostMatches(host, strings.TrimPrefix(d, "www.")) {
			return true
		}
	}
	return false
}

// cookielessID is hex(SHA-256(day salt ‖ site ‖ IP ‖ UA))[:32]. The day
// salt is secret, so the id cannot be recomputed from an IP and UA alone.
func (s *siteState) cookielessID(ip netip.Addr, ua string, now time.Time) string {
	salt := s.saltFor(now.Unix() / secondsPerDay)
	buf := make([]byte, 0, 256)
	buf = append(buf, salt...)
	buf = append(buf, s.name...)
	buf = append(buf, 0)
	buf = ip.Unmap().AppendTo(buf)
	buf = append(buf, 0)
	buf = append(buf, ua...)
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:visitorIDLen/2])
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
