package standalone

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/enrich"
)

//go:embed demo.html
var demoHTML string

// demoSite is what the demo page needs to know about a site.
type demoSite struct {
	Name        string
	TrackerPath string
	ConsentMode string
	Domains     []string
	// Base is the page's path prefix: "/" for the default site,
	// "/try/<name>/" for the others (/sites/ is the dashboard's).
	Base string
	// SharedPath is set when another site uses the same tracker path: the
	// script URL then names the site (?site=), as the collector cannot
	// tell them apart otherwise.
	SharedPath bool
}

// scriptURL is the tracker's URL for a site, and snippet its script tag:
// the documented snippet, with ?site= only where sites share a path.
func scriptURL(collector string, s demoSite) string {
	u := collector + s.TrackerPath + "/t.js"
	if s.SharedPath {
		u += "?site=" + s.Name
	}
	return u
}

func snippet(collector string, s demoSite) string {
	if !s.SharedPath {
		return config.Snippet(collector, s.TrackerPath, s.Name)
	}
	return fmt.Sprintf(`<script defer src="%s" data-site="%s"></script>`, scriptURL(collector, s), s.Name)
}

// Demo serves the demo page of each site: GET / and /demo/... for the
// default site, /sites/<name>/ and /sites/<name>/demo/... for every site.
// The page loads the tracker with the site's snippet and offers something
// to click for each kind of event. It runs the tracker and, where the site
// configures pixels, the ad platforms' scripts, so it never asks for or
// holds a credential: it links to the events page (EventsPage) instead.
type Demo struct {
	sites       map[string]demoSite
	order       []string // site names, default first
	defaultSite string
	tmpl        *template.Template
}

// NewDemo returns the demo of the sites' configurations; the first is the
// default site.
func NewDemo(sites []*config.Runtime) *Demo {
	d := &Demo{sites: map[string]demoSite{}, tmpl: template.Must(template.New("demo").Parse(demoHTML))}
	for i, s := range demoSites(sites) {
		if i == 0 {
			s.Base = "/"
			d.defaultSite = s.Name
		}
		d.sites[s.Name] = s
		d.order = append(d.order, s.Name)
	}
	return d
}

// demoSites describes the sites for the demo and the banner.
func demoSites(sites []*config.Runtime) []demoSite {
	paths := map[string]int{}
	for _, rt := range sites {
		paths[strings.TrimSuffix(rt.Tracker.Path, "/")]++
	}
	out := make([]demoSite, 0, len(sites))
	for _, rt := range sites {
		s := demoSite{
			Name:        rt.Site.Name,
			TrackerPath: strings.TrimSuffix(rt.Tracker.Path, "/"),
			ConsentMode: rt.Tracker.ConsentMode,
			Domains:     rt.Site.Domains,
			Base:        "/try/" + rt.Site.Name + "/",
		}
		s.SharedPath = paths[s.TrackerPath] > 1
		out = append(out, s)
	}
	return out
}

// Register adds the demo's routes to mux.
func (d *Demo) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { d.serve(w, r, d.defaultSite) })
	mux.HandleFunc("GET /demo/{rest...}", func(w http.ResponseWriter, r *http.Request) { d.serve(w, r, d.defaultSite) })
	mux.HandleFunc("GET /try/{site}/{rest...}", func(w http.ResponseWriter, r *http.Request) { d.serve(w, r, r.PathValue("site")) })
}

// demoPage is the template's data.
type demoPage struct {
	Site      demoSite
	Sites     []demoSite
	Collector string // base URL of the collector as the browser reached it
	ScriptSrc string
	Snippet   string
	// Events is the site's events page.
	Events string
	// Refused is set when the page's host is not among the site's domains,
	// so the collector would refuse its events.
	Refused string
}

func (d *Demo) serve(w http.ResponseWriter, r *http.Request, name string) {
	s, ok := d.sites[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	collector := scheme + "://" + r.Host
	p := demoPage{
		Site:      s,
		Collector: collector,
		ScriptSrc: scriptURL(collector, s),
		Snippet:   snippet(collector, s),
		Events:    "/admin/events?site=" + s.Name,
	}
	for _, n := range d.order {
		p.Sites = append(p.Sites, d.sites[n])
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !hostAllowed(strings.Trim(host, "[]"), s.Domains) {
		p.Refused = host
	}
	var b bytes.Buffer
	if err := d.tmpl.Execute(&b, p); err != nil {
		http.Error(w, "rendering the demo page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes()) //nolint:errcheck // the client is gone
}

// hostAllowed mirrors the collector's origin check.
func hostAllowed(host string, domains []string) bool {
	for _, d := range domains {
		if enrich.HostMatches(strings.ToLower(host), strings.TrimPrefix(strings.ToLower(d), "www.")) {
			return true
		}
	}
	return false
}
