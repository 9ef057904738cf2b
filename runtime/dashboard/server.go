package dashboard

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/store"
)

// Guard authenticates the dashboard's users: Require lets through only
// requests signed in for site (a session cookie, or HTTP basic auth for
// scripts), and Register adds the sign-in and sign-out routes.
type Guard interface {
	Require(site string, next http.Handler) http.Handler
	Register(mux *http.ServeMux)
}

// Site is one site the dashboard serves.
type Site struct {
	Name  string
	Goals []store.Goal
	// Demo says the site's data is generated demo traffic; every page says so.
	Demo bool
	// Destinations are the site's Destination names (delivery health).
	Destinations []string
	// HasRetentionPolicy says a retention run carries out the site's
	// erasure requests; without one they run when requested.
	HasRetentionPolicy bool
	// StitchByEmail joins journeys by hashed email too.
	StitchByEmail bool
}

// SiteOf is the dashboard's view of a site's runtime configuration: its
// goals as the store reads them and its Destinations' names.
func SiteOf(rt *config.Runtime) Site {
	goals := make([]store.Goal, len(rt.Goals))
	for i, g := range rt.Goals {
		goals[i] = store.Goal{Name: g.Name, Event: g.Event, Path: g.Path}
	}
	return Site{Name: rt.Site.Name, Goals: goals, Destinations: rt.DestinationNames(), HasRetentionPolicy: len(rt.Retention) > 0,
		StitchByEmail: rt.Privacy.StitchByEmail}
}

// Options are a dashboard's dependencies.
type Options struct {
	Sites []Site
	Store store.Analytics
	// Audit is the audit log the Audit page and report list; nil shows
	// none (the guard writes it: pass a StoreAudit as auth.Options.Audit).
	Audit  store.AuditLog
	Guard  Guard
	Logger *slog.Logger
	// Registry is served on /metrics (for signed-in users of any site:
	// it names the sites); nil serves none.
	Registry *prometheus.Registry
	// Ready, when set, must pass for /readyz.
	Ready func(context.Context) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// New returns the dashboard's handler: every site's pages and API behind
// the guard, the guard's own routes, assets, health and metrics.
func New(o Options) http.Handler {
	goals := map[string][]store.Goal{}
	demo := map[string]bool{}
	dests := map[string][]string{}
	policies, byEmail := map[string]bool{}, map[string]bool{}
	for _, s := range o.Sites {
		byEmail[s.Name] = s.StitchByEmail
		goals[s.Name] = s.Goals
		demo[s.Name] = s.Demo
		dests[s.Name] = s.Destinations
		policies[s.Name] = s.HasRetentionPolicy
	}
	api := &API{Store: o.Store, Audit: o.Audit, Goals: goals, Destinations: dests, Retention: policies, StitchByEmail: byEmail, Log: o.Logger, Now: o.Now}
	inner := http.NewServeMux()
	api.Register(inner)
	(&Pages{API: api, Demo: demo}).Register(inner)

	mux := http.NewServeMux()
	o.Guard.Register(mux)
	for _, s := range o.Sites {
		guarded := o.Guard.Require(s.Name, inner)
		prefix := url.PathEscape(s.Name)
		mux.Handle("/sites/"+prefix+"/", guarded)
		mux.Handle("/api/v1/sites/"+prefix+"/", guarded)
	}
	mux.Handle("GET /assets/", inner)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }) //nolint:errcheck // the client went away
	mux.HandleFunc("GET /readyz", readyz(o.Ready))
	if o.Registry != nil && len(o.Sites) > 0 {
		mux.Handle("GET /metrics", o.Guard.Require(o.Sites[0].Name, promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{})))
	}
	mux.HandleFunc("GET /{$}", home(o.Sites))
	return mux
}

func readyz(ready func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			defer cancel()
			if err := ready(ctx); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("ok\n")) //nolint:errcheck // the client went away
	}
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>trackstack</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><main><h1>Sites</h1><ul>{{range .}}<li><a href="/sites/{{.}}/">{{.}}</a></li>{{end}}</ul></main></body></html>`))

// home sends a one-site dashboard to its overview, and lists the sites of
// a dashboard that serves several (standalone); each site asks for its own
// sign-in.
func home(sites []Site) http.HandlerFunc {
	names := make([]string, len(sites))
	for i, s := range sites {
		names[i] = s.Name
	}
	sort.Strings(names)
	return func(w http.ResponseWriter, r *http.Request) {
		if len(names) == 1 {
			http.Redirect(w, r, "/sites/"+url.PathEscape(names[0])+"/", http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; frame-ancestors 'none'")
		homePage.Execute(w, names) //nolint:errcheck // the client went away
	}
}
