package ingest

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// maxPixelData bounds the d parameter of the pixel: base64 of a 64 KiB body.
const maxPixelData = (MaxBrowserBody*4)/3 + 4

// serveBatch handles POST {path}/e and its CORS preflight.
func (c *Collector) serveBatch(w http.ResponseWriter, r *http.Request, sites []*siteState) {
	switch r.Method {
	case http.MethodOptions:
		c.preflight(w, r, sites)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		c.fail(w, sourceBrowser, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	now := c.now()
	// Requests without Origin are not cross-origin browser requests (curl,
	// server-side callers); they get no CORS headers and still meet the
	// bot rules.
	origin := r.Header.Get("Origin")
	if origin != "" {
		if !anyOriginAllowed(sites, origin) {
			c.fail(w, sourceBrowser, http.StatusForbidden, "origin not allowed")
			return
		}
		// Set before any answer, errors included, so the tracker can read
		// the status and back off.
		setCORS(w.Header(), origin)
	}
	ip := clientIP(r, c.trusted)
	body, release, err := c.readBody(w, r, MaxBrowserBody)
	if err != nil {
		c.bodyError(w, sourceBrowser, err)
		return
	}
	d := c.decoders.Get().(*decoder)
	b, err := d.decodeBrowser(body)
	c.decoders.Put(d)
	release()
	if err != nil {
		c.fail(w, sourceBrowser, http.StatusBadRequest, err.Error())
		return
	}
	s := siteOn(sites, b.site)
	if s == nil {
		c.fail(w, sourceBrowser, http.StatusNotFound, "unknown site "+quote(b.site))
		return
	}
	if origin != "" && !s.originAllowed(origin) {
		clearCORS(w.Header())
		c.fail(w, sourceBrowser, http.StatusForbidden, "origin not allowed for site "+s.name)
		return
	}
	c.respond(w, sourceBrowser, c.ingestBrowser(r, s, b, ip, now))
}

// servePixel handles GET {path}/p.gif?d=base64url(batch): the same batch as
// POST {path}/e for clients that can only load an image. It always answers
// the GIF (an image has no way to show an error); the metrics record the
// status a POST would have had. HEAD answers the GIF's headers and stores
// nothing: link checkers and prefetchers send it, never the tracker.
func (c *Collector) servePixel(w http.ResponseWriter, r *http.Request, sites []*siteState) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodHead:
		writePixel(w)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD")
		c.fail(w, sourceBrowser, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	o := c.pixel(r, sites)
	c.metrics.request(sourceBrowser, o.status)
	if o.status == http.StatusOK && o.cookie != "" {
		w.Header()["Set-Cookie"] = []string{o.cookie}
	}
	writePixel(w)
}

func (c *Collector) pixel(r *http.Request, sites []*siteState) outcome {
	now := c.now()
	ip := clientIP(r, c.trusted)
	data := r.URL.Query().Get("d")
	if data == "" {
		return failure(http.StatusBadRequest, "d: required")
	}
	if len(data) > maxPixelData {
		return failure(http.StatusRequestEntityTooLarge, "d: too large")
	}
	body, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(data, "="))
	if err != nil {
		return failure(http.StatusBadRequest, "d: not base64url")
	}
	d := c.decoders.Get().(*decoder)
	b, err := d.decodeBrowser(body)
	c.decoders.Put(d)
	if err != nil {
		return failure(http.StatusBadRequest, err.Error())
	}
	s := siteOn(sites, b.site)
	if s == nil {
		return failure(http.StatusNotFound, "unknown site")
	}
	// Image requests rarely carry Origin, but when one does it is held to
	// the same rule as the POST endpoint's.
	if origin := r.Header.Get("Origin"); origin != "" && !s.originAllowed(origin) {
		return failure(http.StatusForbidden, "origin not allowed for site "+s.name)
	}
	return c.ingestBrowser(r, s, b, ip, now)
}

// respond writes an outcome as JSON.
func (c *Collector) respond(w http.ResponseWriter, source string, o outcome) {
	c.metrics.request(source, o.status)
	switch {
	case o.status == http.StatusOK:
		if o.cookie != "" {
			w.Header()["Set-Cookie"] = []string{o.cookie}
		}
		writeResult(w, o.res)
	case o.retry > 0:
		writeRetry(w, o.status, o.retry, o.msg)
	default:
		writeError(w, o.status, o.msg)
	}
}

// preflight answers a CORS preflight for the batch endpoint.
func (c *Collector) preflight(w http.ResponseWriter, r *http.Request, sites []*siteState) {
	origin := r.Header.Get("Origin")
	if origin == "" || !anyOriginAllowed(sites, origin) {
		c.fail(w, sourceBrowser, http.StatusForbidden, "origin not allowed")
		return
	}
	h := w.Header()
	setCORS(h, origin)
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	c.metrics.request(sourceBrowser, http.StatusNoContent)
	w.WriteHeader(http.StatusNoContent)
}

// setCORS allows origin with credentials, so the browser sends and accepts
// the visitor cookie. The origin is reflected, never "*" (which browsers
// refuse together with credentials), and Vary tells caches it differs.
func setCORS(h http.Header, origin string) {
	h["Access-Control-Allow-Origin"] = []string{origin}
	h["Access-Control-Allow-Credentials"] = corsTrue
	h["Vary"] = corsVary
}

func clearCORS(h http.Header) {
	h.Del("Access-Control-Allow-Origin")
	h.Del("Access-Control-Allow-Credentials")
}

var (
	corsTrue = []string{"true"}
	corsVary = []string{"Origin"}
)

func anyOriginAllowed(sites []*siteState, origin string) bool {
	for _, s := range sites {
		if s.originAllowed(origin) {
			return true
		}
	}
	return false
}

func siteOn(sites []*siteState, name string) *siteState {
	for _, s := range sites {
		if s.name == name {
			return s
		}
	}
	return nil
}

// quote bounds and quotes client text echoed in an error.
func quote(s string) string {
	return `"` + truncate(strings.ToValidUTF8(s, "?"), 64) + `"`
}
