package auth

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
)

// Guard is the sign-in of every site one dashboard serves: one in a
// cluster, where each site has its own dashboard, several on one host in
// standalone. Each site keeps its own Authenticator (its own password,
// keys and sessions); the Guard only sends each request to the right one.
type Guard struct {
	sites map[string]*Authenticator
	names []string
}

// NewGuard returns the Guard of sites. Several sites on one host must name
// their cookies per site (Options.SharedHost): with one cookie name,
// signing into one site would sign out of the others.
func NewGuard(sites ...*Authenticator) (*Guard, error) {
	g := &Guard{sites: map[string]*Authenticator{}}
	for _, a := range sites {
		if _, dup := g.sites[a.site]; dup {
			return nil, fmt.Errorf("auth: site %s guarded twice", a.site)
		}
		if len(sites) > 1 && a.names.session == SessionCookie {
			return nil, fmt.Errorf("auth: site %s shares its host with other sites but not Options.SharedHost", a.site)
		}
		g.sites[a.site] = a
		g.names = append(g.names, a.site)
	}
	if len(g.names) == 0 {
		return nil, fmt.Errorf("auth: no site to guard")
	}
	sort.Strings(g.names)
	return g, nil
}

// Require serves next only to users signed into site (Authenticator.Require);
// a site the Guard does not know is not found.
func (g *Guard) Require(site string, next http.Handler) http.Handler {
	a, ok := g.sites[site]
	if !ok {
		return http.NotFoundHandler()
	}
	return a.Require(next)
}

// Register adds the sign-in routes to mux: GET and POST /login, POST
// /logout, GET /login/oidc and /login/oidc/callback. The site is the
// SiteField of the query or form, needed only when there are several.
func (g *Guard) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", g.bySite((*Authenticator).serveLoginForm))
	mux.HandleFunc("POST /login", g.bySite((*Authenticator).serveLogin))
	mux.HandleFunc("POST /logout", g.bySite((*Authenticator).serveLogout))
	mux.HandleFunc("GET /login/oidc", g.bySite(func(a *Authenticator, w http.ResponseWriter, r *http.Request) {
		if a.oidc == nil {
			http.NotFound(w, r)
			return
		}
		a.serveOIDCStart(w, r)
	}))
	mux.HandleFunc("GET /login/oidc/callback", g.serveOIDCCallback)
}

// bySite serves r by the Authenticator of its site.
func (g *Guard) bySite(serve func(*Authenticator, http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		name := r.FormValue(SiteField)
		if name == "" && len(g.names) == 1 {
			name = g.names[0]
		}
		a, ok := g.sites[name]
		switch {
		case ok:
			serve(a, w, r)
		case name == "" && r.Method == http.MethodGet:
			g.serveSitePicker(w)
		default:
			http.Error(w, "unknown site", http.StatusNotFound)
		}
	}
}

// serveOIDCCallback hands the callback to the site whose sign-in it ends:
// the one whose flow cookie the browser sent with the state the issuer
// returned. The redirect URL registered at the issuer stays one per host.
func (g *Guard) serveOIDCCallback(w http.ResponseWriter, r *http.Request) {
	for _, name := range g.names {
		if a := g.sites[name]; a.oidc != nil && a.ownsOIDCCallback(r) {
			a.serveOIDCCallback(w, r)
			return
		}
	}
	// No flow matches: let the first OIDC site refuse it and audit why.
	for _, name := range g.names {
		if a := g.sites[name]; a.oidc != nil {
			a.serveOIDCCallback(w, r)
			return
		}
	}
	http.NotFound(w, r)
}

var sitePicker = template.Must(template.New("sites").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in</title></head><body><h1>Sign in to</h1><ul>
{{range .}}<li><a href="/login?site={{.}}">{{.}}</a></li>{{end}}
</ul></body></html>`))

func (g *Guard) serveSitePicker(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	sitePicker.Execute(w, g.names) //nolint:errcheck // the client went away
}
