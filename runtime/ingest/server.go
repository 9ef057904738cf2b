package ingest

import (
	"net/http"
	"strings"

	"github.com/trackstack/trackstack/runtime/throttle"
)

// serveServerAPI handles POST /v1/events: a backend's batch of up to 500
// events, authenticated by the site's ingest key as a bearer token.
func (c *Collector) serveServerAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		c.fail(w, sourceServer, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	now := c.now()
	t := c.sites.Load()
	token, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="trackstack"`)
		c.fail(w, sourceServer, http.StatusUnauthorized, "missing bearer token")
		return
	}
	// A client that sent wrong keys too often is refused before its key is
	// even compared, so the answers cannot be used to guess one.
	ip := clientIP(r, c.trusted)
	if ok, wait := c.keyFailures.Allow(ip, now); !ok {
		c.metrics.request(sourceServer, http.StatusTooManyRequests)
		writeRetry(w, http.StatusTooManyRequests, throttle.RetryAfterSeconds(wait), "too many invalid ingest keys from this address; retry later")
		return
	}
	// The key says which sites the caller may write; compare against every
	// site (each in constant time) before touching the body. Several sites
	// may share a key (standalone mode's TRACKSTACK_INGEST_KEY).
	authed := false
	for _, s := range t.byName {
		if s.keyMatches(token) {
			authed = true
		}
	}
	if !authed {
		c.keyFailures.Fail(ip, now)
		w.Header().Set("WWW-Authenticate", `Bearer realm="trackstack", error="invalid_token"`)
		c.fail(w, sourceServer, http.StatusUnauthorized, "invalid ingest key")
		return
	}
	body, release, err := c.readBody(w, r, MaxServerBody)
	if err != nil {
		c.bodyError(w, sourceServer, err)
		return
	}
	d := c.decoders.Get().(*decoder)
	b, err := d.decodeServer(body)
	c.decoders.Put(d)
	release()
	if err != nil {
		c.fail(w, sourceServer, http.StatusBadRequest, err.Error())
		return
	}
	s := t.byName[b.site]
	switch {
	case s == nil:
		c.fail(w, sourceServer, http.StatusNotFound, "unknown site "+quote(b.site))
		return
	case !s.keyMatches(token):
		c.fail(w, sourceServer, http.StatusForbidden, "the ingest key is not valid for site "+s.name)
		return
	}
	c.respond(w, sourceServer, c.ingestServer(r.Context(), s, b, now))
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) ([]byte, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return nil, false
	}
	tok := strings.TrimSpace(h[len(prefix):])
	return []byte(tok), tok != ""
}
