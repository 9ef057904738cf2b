package tracker

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// CacheControl is sent with t.js, tcf.js and h.js: browsers revalidate them (cheap,
// thanks to the ETag) at most hourly, so a configuration change reaches
// visitors within the hour. x.js is requested with its version (?v=) and is
// immutable under it.
const CacheControl = "public, max-age=3600"

// immutable is the Cache-Control of x.js requested at its current version.
const immutable = "public, max-age=31536000, immutable"

// Handler serves t.js, x.js, tcf.js and h.js for one or more sites. Route
// GET {tracker.path}/t.js, /x.js, /tcf.js and /h.js to it. It is safe for
// concurrent use; Update swaps the configuration without a restart.
type Handler struct {
	sites atomic.Pointer[map[string]*siteFiles]
}

// siteFiles are one site's files, encoded once per configuration.
type siteFiles struct {
	script, ext, tcf, hasher *file
	extVersion               string
}

// file is one served file in both encodings.
type file struct {
	plain, gz  []byte
	etag, gtag string // ETags of the plain and gzip representations
}

// NewHandler returns a Handler for the sites' configurations.
func NewHandler(sites ...ScriptConfig) *Handler {
	h := &Handler{}
	h.Update(sites...)
	return h
}

// Update replaces the configurations the Handler serves.
func (h *Handler) Update(sites ...ScriptConfig) {
	m := make(map[string]*siteFiles, len(sites))
	tcf, hasher := newFile(TCF()), newFile(Hasher())
	for _, cfg := range sites {
		f := &siteFiles{script: newFile(Script(cfg)), tcf: tcf, hasher: hasher}
		if js, etag := Extension(cfg); js != nil {
			f.ext = newFile(js, etag)
			f.extVersion = version(etag)
		}
		m[cfg.Site] = f
	}
	h.sites.Store(&m)
}

// ServeHTTP serves the file named by the request path's last element for
// the site named by the site query parameter, or for the only site.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	site := r.URL.Query().Get("site")
	if site == "" {
		if m := *h.sites.Load(); len(m) == 1 {
			for s := range m {
				site = s
			}
		}
	}
	h.ServeSite(w, r, site)
}

// ServeSite serves the file named by the request path's last element for
// site, for a caller that tells sites sharing a tracker.path apart itself.
func (h *Handler) ServeSite(w http.ResponseWriter, r *http.Request, site string) {
	files, ok := (*h.sites.Load())[site]
	if !ok {
		http.Error(w, "unknown site", http.StatusNotFound)
		return
	}
	var f *file
	cache := CacheControl
	switch path.Base(r.URL.Path) {
	case "t.js":
		f = files.script
	case "tcf.js":
		f = files.tcf
	case "h.js":
		f = files.hasher
	case "x.js":
		f = files.ext
		if v := r.URL.Query().Get("v"); v != files.extVersion {
			// A page still running an older t.js: serve the current bridges,
			// but do not cache them under the old version.
			cache = "no-cache"
		} else {
			cache = immutable
		}
	}
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h.serve(w, r, f, cache)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, f *file, cache string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("Cache-Control", cache)
	hd.Set("Vary", "Accept-Encoding")
	body, etag := f.plain, f.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = f.gz, f.gtag
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("ETag", etag)
	// A client holding either representation is up to date.
	if inm := r.Header.Get("If-None-Match"); inm != "" && (etagMatch(inm, f.etag) || etagMatch(inm, f.gtag)) {
		hd.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	// ServeContent adds Content-Length, HEAD and Range handling.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func newFile(js []byte, etag string) *file {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // the level is valid
	zw.Write(js)                                           //nolint:errcheck // writes to memory
	zw.Close()                                             //nolint:errcheck // writes to memory
	return &file{plain: js, gz: b.Bytes(), etag: etag, gtag: strings.TrimSuffix(etag, `"`) + `-gz"`}
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip with a
// non-zero quality: listed as gzip, or else covered by *.
func acceptsGzip(header string) bool {
	gz, star := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.ReplaceAll(strings.ToLower(params), " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gz = q
		case "*":
			star = q
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}

// etagMatch reports whether an If-None-Match header lists etag (weakly, as
// RFC 9110 prescribes for If-None-Match) or is *.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
