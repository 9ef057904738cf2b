package dashboard

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/dashboard/auth"
	"github.com/trackstack/trackstack/runtime/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// The overview and the report pages share the layout and the table; each
// defines the content the layout shows.
var (
	overviewPage = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/table.html", "templates/overview.html"))
	reportPage   = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/table.html", "templates/report.html"))
)

// Pages serves the dashboard's server-rendered pages under
// /sites/{site}/ and their static assets under /assets/. Every number on
// a page comes from the same report functions as the API. Authentication
// is the caller's: wrap it.
type Pages struct {
	API *API
	// Demo marks the sites whose data is generated demo traffic.
	Demo map[string]bool
}

// pageNames are the report pages, in navigation order; "" is the overview.
var pageNames = []struct{ slug, label string }{
	{"", "Overview"}, {"pages", "Pages"}, {"sources", "Sources"}, {"channels", "Channels"},
	{"campaigns", "Campaigns"}, {"devices", "Devices"}, {"goals", "Goals"}, {"attribution", "Attribution"}, {"journeys", "Journeys"}, {"destinations", "Destinations"}, {"realtime", "Realtime"},
	{"erasures", "Erasures"}, {"audit", "Audit"},
}

// Register adds the pages and assets to mux.
func (p *Pages) Register(mux *http.ServeMux) {
	assets, _ := fs.Sub(assetFiles, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheFor(time.Hour, http.FileServerFS(assets))))
	mux.HandleFunc("GET /sites/{site}/{$}", p.serve)
	mux.HandleFunc("GET /sites/{site}/{page}", p.serve)
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		h.ServeHTTP(w, r)
	})
}

// pageData is what the templates render.
type pageData struct {
	Title, Site, Interval, Query, APIBase string
	Demo                                  bool
	// NoFilters hides the range and filters form: the page's report
	// ignores them.
	NoFilters bool
	Nav       []navLink
	// Choices are a page's own views (attribution: window and dimension).
	Choices []navLink
	// Replays are the destinations page's replay forms.
	Replays []replayForm
	// Erasure is the erasures page's request form (nil on other pages).
	Erasure *erasureForm
	// Charts are a report page's charts (delivery per day).
	Charts []chart
	// Person is the journeys page's search (nil on other pages).
	Person     map[string]string
	Form       formValues
	Cards      []card
	SeriesJSON template.JS
	Tables     []table
}

type navLink struct {
	Href, Label string
	Current     bool
}

type formValues struct{ From, To, Page, Source, Channel, Campaign, Device string }

type card struct{ Key, Label, Value, Delta, Trend string }

type table struct {
	ID, Title, CSV string
	Head           []string
	Rows           [][]string
	// Log says the report is a log, not numbers of the range: no column
	// is right-aligned as a number, and the form's range does not apply.
	Log bool
}

// logReports are the reports that list a log rather than count visits.
var logReports = map[string]bool{"audit": true, "erasures": true}

func (p *Pages) serve(w http.ResponseWriter, r *http.Request) {
	site, slug := r.PathValue("site"), r.PathValue("page")
	goals, ok := p.API.Goals[site]
	if !ok {
		http.Error(w, "unknown site", http.StatusNotFound)
		return
	}
	title := ""
	for _, n := range pageNames {
		if n.slug == slug {
			title = n.label
		}
	}
	if title == "" {
		http.Error(w, "unknown page", http.StatusNotFound)
		return
	}
	prm, err := parseParams(r, site, goals, p.API.now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := p.frame(r, site, title, slug, prm)
	if err := p.fill(r, &d, slug, prm); err != nil {
		status, msg := reportFailure(err)
		if status == http.StatusInternalServerError {
			p.API.log().Error("page failed", "site", site, "page", slug, "err", err)
		}
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Only our own scripts run here; the series is data, not script.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	tmpl := reportPage
	if slug == "" {
		tmpl = overviewPage
	}
	if err := tmpl.ExecuteTemplate(w, "layout", d); err != nil {
		p.API.log().Error("rendering page", "site", site, "page", slug, "err", err)
	}
}

// frame is what every page shows: navigation keeping the query, the form.
func (p *Pages) frame(r *http.Request, site, title, slug string, prm params) pageData {
	q := r.URL.Query()
	q.Del("format")
	enc := q.Encode()
	d := pageData{Title: title, Site: site, Query: enc, APIBase: "/api/v1/sites/" + url.PathEscape(site), Interval: prm.interval, Demo: p.Demo[site]}
	for _, n := range pageNames {
		href := "/sites/" + url.PathEscape(site) + "/" + n.slug
		if enc != "" {
			href += "?" + enc
		}
		d.Nav = append(d.Nav, navLink{Href: href, Label: n.label, Current: n.slug == slug})
	}
	loc := prm.q.Location
	d.Form = formValues{
		From: prm.q.From.In(loc).Format(time.DateOnly), To: prm.q.To.Add(-time.Nanosecond).In(loc).Format(time.DateOnly),
		Page: prm.q.Filters.Page, Source: prm.q.Filters.Source, Channel: prm.q.Filters.Channel,
		Campaign: prm.q.Filters.Campaign, Device: prm.q.Filters.Device,
	}
	return d
}

// fill runs the page's reports.
func (p *Pages) fill(r *http.Request, d *pageData, slug string, prm params) error {
	ctx := r.Context()
	if slug == "" {
		return p.fillOverview(r, d, prm)
	}
	if slug == "destinations" {
		return p.fillDestinations(r, d, prm)
	}
	if slug == "journeys" {
		d.Person, d.NoFilters = prm.person, true
	}
	if slug == "erasures" {
		d.Erasure = &erasureForm{Action: d.APIBase + "/erasures", CSRFField: auth.CSRFField, CSRF: auth.CSRFToken(r.Context()),
			Requested: r.URL.Query().Get("requested"), RunsAtNextRun: p.API.Retention[d.Site]}
	}
	if slug == "attribution" {
		tables, err := p.API.attributionTables(ctx, prm)
		d.Tables = tables
		d.Choices = attributionChoices(r, d.Site)
		return err
	}
	_, tbl, err := reports[slug](p.API, ctx, prm)
	if err != nil {
		return err
	}
	d.Tables = []table{{ID: slug, Title: d.Title, Head: tbl[0], Rows: tbl[1:], CSV: d.APIBase + "/" + slug + "?" + withCSV(d.Query), Log: logReports[slug]}}
	d.NoFilters = logReports[slug]
	return nil
}

func (p *Pages) fillOverview(r *http.Request, d *pageData, prm params) error {
	ctx := r.Context()
	body, _, err := p.API.overview(ctx, prm)
	if err != nil {
		return err
	}
	ov := body.(Overview)
	d.Cards = cards(ov.Current, ov.Previous)
	series, _, err := p.API.timeseries(ctx, prm)
	if err != nil {
		return err
	}
	js, err := json.Marshal(series)
	if err != nil {
		return err
	}
	d.SeriesJSON = template.JS(js)
	for _, t := range []struct{ slug, title string }{{"pages", "Top pages"}, {"sources", "Top sources"}} {
		small := prm
		small.limit = 10
		_, tbl, err := reports[t.slug](p.API, ctx, small)
		if err != nil {
			return err
		}
		d.Tables = append(d.Tables, table{ID: t.slug, Title: t.title, Head: tbl[0], Rows: tbl[1:]})
	}
	return nil
}

func withCSV(q string) string {
	if q == "" {
		return "format=csv"
	}
	return q + "&format=csv"
}

// cards are the overview's numbers with their change from the previous period.
func cards(cur, prev store.Totals) []card {
	return []card{
		numCard("visitors", "Visitors", float64(cur.Visitors), float64(prev.Visitors), itoa(cur.Visitors)),
		numCard("sessions", "Sessions", float64(cur.Sessions), float64(prev.Sessions), itoa(cur.Sessions)),
		numCard("pageviews", "Page views", float64(cur.Pageviews), float64(prev.Pageviews), itoa(cur.Pageviews)),
		numCard("bounce_rate", "Bounce rate", cur.BounceRate, prev.BounceRate, strconv.FormatFloat(cur.BounceRate*100, 'f', 1, 64)+" %"),
		numCard("visit_duration_sec", "Visit duration", cur.VisitSecs, prev.VisitSecs, (time.Duration(cur.VisitSecs) * time.Second).Round(time.Second).String()),
		numCard("conversions", "Conversions", float64(cur.Conversions), float64(prev.Conversions), itoa(cur.Conversions)),
		numCard("revenue", "Revenue", cur.Revenue, prev.Revenue, strconv.FormatFloat(cur.Revenue, 'f', 2, 64)),
	}
}

func numCard(key, label string, cur, prev float64, shown string) card {
	c := card{Key: key, Label: label, Value: shown, Delta: "no data"}
	switch {
	case prev == 0 && cur == 0:
		c.Delta = "±0"
	case prev == 0:
		c.Delta, c.Trend = "new", "up"
	default:
		pct := (cur - prev) / math.Abs(prev) * 100
		c.Delta = strings.Replace(fmt.Sprintf("%+.1f %%", pct), "+-", "-", 1)
		if pct > 0 {
			c.Trend = "up"
		} else if pct < 0 {
			c.Trend = "down"
		}
	}
	return c
}

// attributionChoices link the attribution page's windows and dimensions,
// keeping the rest of the query.
func attributionChoices(r *http.Request, site string) []navLink {
	var out []navLink
	cur := r.URL.Query()
	for _, c := range []struct{ key, value, label string }{
		{"window", "1d", "1 day"}, {"window", "7d", "7 days"}, {"window", "30d", "30 days"}, {"window", "90d", "90 days"},
		{"by", "channel", "by channel"}, {"by", "source", "by source"}, {"by", "campaign", "by campaign"},
	} {
		q := r.URL.Query()
		q.Set(c.key, c.value)
		q.Del("format")
		current := cur.Get(c.key) == c.value || cur.Get(c.key) == "" && (c.value == "30d" || c.value == "channel")
		out = append(out, navLink{Href: "/sites/" + url.PathEscape(site) + "/attribution?" + q.Encode(), Label: c.label, Current: current})
	}
	return out
}

// chart is one chart of a report page: its data, drawn by chart.js.
type chart struct {
	ID, Title string
	JSON      template.JS
}

// chartData is what chart.js draws: x as Unix seconds, and each series.
type chartData struct {
	X      []int64       `json:"x"`
	Series []chartSeries `json:"series"`
}

type chartSeries struct {
	Label  string  `json:"label"`
	Color  string  `json:"color"`
	Values []int64 `json:"values"`
}

// deliveryChart charts a destination's records per day.
func deliveryChart(h DestinationHealth) (chart, error) {
	var c chartData
	sent, failed, skipped, pending := []int64{}, []int64{}, []int64{}, []int64{}
	for _, d := range h.Days {
		day, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			return chart{}, err
		}
		c.X = append(c.X, day.Unix())
		sent, failed, skipped, pending = append(sent, d.Sent), append(failed, d.Failed), append(skipped, d.Skipped), append(pending, d.Pending)
	}
	c.Series = []chartSeries{{"Sent", "#137a3a", sent}, {"Failed", "#b42318", failed}, {"Skipped", "#8a94a6", skipped}, {"Pending", "#2454d6", pending}}
	js, err := json.Marshal(c)
	if err != nil {
		return chart{}, err
	}
	return chart{ID: "chart-" + h.Name, Title: "Deliveries to " + h.Name + " per day", JSON: template.JS(js)}, nil
}

// erasureForm is the form that requests an erasure. Requested is the id
// of the request just made, if any.
type erasureForm struct {
	Action, CSRFField, CSRF, Requested string
	// RunsAtNextRun says requests wait for the next retention run unless
	// asked to run at once.
	RunsAtNextRun bool
}

// replayForm is a form that replays a destination's failed deliveries.
type replayForm struct {
	Destination, Action, CSRFField, CSRF string
	Failed                               int64
}

// fillDestinations is the delivery health page: the counts per
// destination, each one's recent failures, and a confirmed replay form
// for those with failures.
func (p *Pages) fillDestinations(r *http.Request, d *pageData, prm params) error {
	body, tbl, err := p.API.destinations(r.Context(), prm)
	if err != nil {
		return err
	}
	d.Tables = []table{{ID: "destinations", Title: "Delivery by destination", Head: tbl[0], Rows: tbl[1:], CSV: d.APIBase + "/destinations?format=csv"}}
	for _, h := range body.(Destinations).Destinations {
		rows := [][]string{}
		for _, f := range h.RecentFailures {
			rows = append(rows, []string{f.EventID, f.Reason, strconv.Itoa(f.Attempts), f.At.Format(time.RFC3339)})
		}
		d.Tables = append(d.Tables, table{ID: "failures-" + h.Name, Title: "Recent failures: " + h.Name,
			Head: []string{"event_id", "reason", "attempts", "at"}, Rows: rows})
		days := [][]string{}
		for _, dd := range h.Days {
			days = append(days, []string{dd.Day, itoa(dd.Sent), itoa(dd.Failed), itoa(dd.Pending), itoa(dd.Skipped),
				strconv.FormatFloat(dd.AcceptedShare*100, 'f', 1, 64) + " %"})
		}
		c, err := deliveryChart(h)
		if err != nil {
			return err
		}
		d.Charts = append(d.Charts, c)
		d.Tables = append(d.Tables, table{ID: "days-" + h.Name, Title: "Accepted by " + h.Name + ", per day",
			Head: []string{"day (UTC)", "sent", "failed", "pending", "skipped", "accepted"}, Rows: days})
		if n := h.Counts[store.DeliveryFailed]; n > 0 {
			d.Replays = append(d.Replays, replayForm{Destination: h.Name, Failed: n, CSRFField: auth.CSRFField, CSRF: auth.CSRFToken(r.Context()),
				Action: d.APIBase + "/destinations/" + url.PathEscape(h.Name) + "/replay"})
		}
	}
	return nil
}
