package standalone

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
)

//go:embed eventspage.html
var eventsPageHTML string

// eventsPageLimit is how many events the page lists.
const eventsPageLimit = 50

// EventsPage serves GET /admin/events?site=<name>: the newest events of a
// site (the first one without ?site=) as an HTML table, for the admin. It
// is the page a person logs into with the browser's own basic-auth prompt,
// so it is built to keep that login to itself:
//   - it runs no script at all, and its Content-Security-Policy allows
//     none, nor anything from another origin (its styles carry a nonce);
//   - it is served only as a top-level page the browser navigated to: a
//     fetch or a frame from another page on the origin (the demo page runs
//     the ad platforms' scripts) gets 403 before credentials are checked;
//   - its basic-auth realm is its own (realmPage).
type EventsPage struct {
	store  Recenter
	sites  []eventsPageSite
	admin  *Admin
	logger *slog.Logger
	tmpl   *template.Template
}

// eventsPageSite is a site the page can show, with its demo page.
type eventsPageSite struct {
	Name, Demo string
}

// NewEventsPage returns the events page of the sites; the first is shown
// without ?site=. logger may be nil.
func NewEventsPage(store Recenter, sites []*config.Runtime, admin *Admin, logger *slog.Logger) *EventsPage {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &EventsPage{store: store, admin: admin, logger: logger, tmpl: template.Must(template.New("events").Parse(eventsPageHTML))}
	for i, rt := range sites {
		demo := "/try/" + rt.Site.Name + "/"
		if i == 0 {
			demo = "/"
		}
		p.sites = append(p.sites, eventsPageSite{Name: rt.Site.Name, Demo: demo})
	}
	return p
}

// eventsPageData is the template's data.
type eventsPageData struct {
	Site  eventsPageSite
	Sites []eventsPageSite
	API   string
	Nonce string
	Rows  []eventsPageRow
}

// eventsPageRow is one event as the table shows it.
type eventsPageRow struct {
	Received, EventID, Type, Name, Path, Channel, UTM, ClickIDs, Value, Visitor, IP string
}

func (p *EventsPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nonce := newNonce()
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'none'; style-src 'nonce-"+nonce+"'; "+
		"img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if !navigatedTo(r) {
		http.Error(w, "the events page opens only as a page of its own", http.StatusForbidden)
		return
	}
	if !p.admin.authorize(w, r, realmPage, textError) {
		return
	}
	site, ok := p.site(r.URL.Query().Get("site"))
	if !ok {
		http.Error(w, "unknown site "+strconv.Quote(r.URL.Query().Get("site")), http.StatusNotFound)
		return
	}
	evs, err := p.store.Recent(r.Context(), site.Name, eventsPageLimit)
	if err != nil {
		p.logger.Error("reading events", "site", site.Name, "err", err)
		http.Error(w, "reading events failed", http.StatusInternalServerError)
		return
	}
	data := eventsPageData{Site: site, Sites: p.sites, API: "/api/v1/sites/" + site.Name + "/events", Nonce: nonce}
	for i := range evs {
		data.Rows = append(data.Rows, rowOf(&evs[i]))
	}
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, data); err != nil {
		p.logger.Error("rendering the events page", "site", site.Name, "err", err)
		http.Error(w, "rendering the events page failed", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes()) //nolint:errcheck // the client is gone
}

// navigatedTo reports whether r is a top-level navigation, by the Fetch
// Metadata headers browsers send; a request without them (curl, an older
// browser) passes, as no page's script can have made it.
func navigatedTo(r *http.Request) bool {
	mode, dest := r.Header.Get("Sec-Fetch-Mode"), r.Header.Get("Sec-Fetch-Dest")
	return (mode == "" || mode == "navigate") && (dest == "" || dest == "document")
}

func (p *EventsPage) site(name string) (eventsPageSite, bool) {
	for _, s := range p.sites {
		if s.Name == name || name == "" {
			return s, true
		}
	}
	return eventsPageSite{}, false
}

func rowOf(e *event.Event) eventsPageRow {
	row := eventsPageRow{
		Received: e.ReceivedAt.UTC().Format(time.DateTime), EventID: e.EventID,
		Type: string(e.Type), Name: e.Name, Path: pathOf(e.URL), Channel: e.Channel, IP: e.IP,
		UTM: strings.Join(nonEmpty(e.UTM.Source, e.UTM.Medium, e.UTM.Campaign), " / "),
	}
	ids := make([]string, 0, len(e.ClickIDs))
	for k, v := range e.ClickIDs {
		ids = append(ids, k+"="+v)
	}
	sort.Strings(ids)
	row.ClickIDs = strings.Join(ids, " ")
	if e.Value != nil {
		row.Value = strconv.FormatFloat(*e.Value, 'f', -1, 64) + " " + e.Currency
	}
	row.Visitor = e.VisitorID[:min(8, len(e.VisitorID))]
	return row
}

func pathOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Path != "" {
		return u.Path
	}
	return raw
}

func nonEmpty(s ...string) []string {
	out := s[:0:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// newNonce returns a fresh Content-Security-Policy nonce.
func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read does not fail
	return base64.RawURLEncoding.EncodeToString(b)
}
