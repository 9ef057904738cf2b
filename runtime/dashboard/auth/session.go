package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Session lifetimes and bounds.
const (
	// SessionIdle ends a session not used for this long.
	SessionIdle = 12 * time.Hour
	// SessionMax ends every session this long after sign-in.
	SessionMax = 7 * 24 * time.Hour
	// DefaultMaxSessions bounds the session table.
	DefaultMaxSessions = 10_000
)

// cookieVersion prefixes every session cookie, so its format can change.
const cookieVersion = "v1"

// deriveKey returns the key of one use of the site's signing key, so no two
// uses (visitor cookies, sessions, login tokens) ever share a key.
func deriveKey(signingKey []byte, purpose string) []byte {
	m := hmac.New(sha256.New, signingKey)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Session is a signed-in user of one site.
type Session struct {
	ID    string
	Site  string
	Actor string
	// CSRF is the synchronizer token of state-changing requests.
	CSRF     string
	Created  time.Time
	LastSeen time.Time
}

// expires is when s ends if it keeps being used.
func (s *Session) expires() time.Time { return s.Created.Add(SessionMax) }

// live reports whether s is still valid at now.
func (s *Session) live(now time.Time) bool {
	return now.Before(s.expires()) && now.Sub(s.LastSeen) < SessionIdle
}

// cookieSigner signs and checks session cookies.
type cookieSigner struct{ key []byte }

// sign returns the cookie value naming session id of site until expires.
func (c cookieSigner) sign(site, id string, expires time.Time) string {
	body := strings.Join([]string{cookieVersion, siteClaim(site), id, strconv.FormatInt(expires.Unix(), 10)}, ".")
	return body + "." + c.mac(body)
}

// siteClaim is the site as the cookie carries it: base64url, since a site
// name (a Kubernetes object name) may hold dots, the cookie's separator.
func siteClaim(site string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(site))
}

func (c cookieSigner) mac(body string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// open returns the session id of a cookie value signed for site and not
// expired at now.
func (c cookieSigner) open(value, site string, now time.Time) (id string, ok bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return "", false
	}
	body, mac := value[:i], value[i+1:]
	if subtle.ConstantTimeCompare([]byte(mac), []byte(c.mac(body))) != 1 {
		return "", false
	}
	parts := strings.Split(body, ".")
	if len(parts) != 4 || parts[0] != cookieVersion || parts[1] != siteClaim(site) {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return "", false
	}
	return parts[2], true
}

// sessions is the bounded in-memory session table. It is safe for
// concurrent use.
type sessions struct {
	mu  sync.Mutex
	lru *simplelru.LRU[string, *Session]
}

func newSessions(max int) *sessions {
	if max <= 0 {
		max = DefaultMaxSessions
	}
	lru, err := simplelru.NewLRU[string, *Session](max, nil)
	if err != nil {
		panic("auth: " + err.Error()) // only for a size <= 0, ruled out above
	}
	return &sessions{lru: lru}
}

// create starts a session of actor on site.
func (t *sessions) create(site, actor string, now time.Time) *Session {
	s := &Session{ID: randomToken(), Site: site, Actor: actor, CSRF: randomToken(), Created: now, LastSeen: now}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lru.Add(s.ID, s)
	return s
}

// touch returns a copy of the live session id of site, marking it used at
// now; an ended session is removed.
func (t *sessions) touch(id, site string, now time.Time) (Session, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.lru.Get(id)
	if !ok {
		return Session{}, false
	}
	if !s.live(now) {
		t.lru.Remove(id)
		return Session{}, false
	}
	if s.Site != site {
		return Session{}, false
	}
	s.LastSeen = now
	return *s, true
}

// remove ends session id.
func (t *sessions) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lru.Remove(id)
}

// randomToken is 256 random bits, base64url.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
