package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/csvsafe"
	"github.com/trackstack/trackstack/runtime/store"
)

// API serves the JSON and CSV reports of one or more sites under
// /api/v1/sites/{site}/{report}. Authentication is the caller's: wrap it.
type API struct {
	Store store.Analytics
	// Audit is the audit log the audit report lists; nil answers it 404.
	Audit store.AuditLog
	// Goals are each site's goals, by site name; a site missing here is
	// unknown (404).
	Goals map[string][]store.Goal
	// Destinations are each site's Destination names, for delivery health.
	Destinations map[string][]string
	// Retention says which sites have a RetentionPolicy: their erasures
	// wait for its next run unless asked to run at once.
	Retention map[string]bool
	// StitchByEmail says which sites join journeys by hashed email too.
	StitchByEmail map[string]bool
	Log           *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// reports are the API's endpoints.
var reports = map[string]func(a *API, ctx context.Context, p params) (any, [][]string, error){
	"overview":     (*API).overview,
	"timeseries":   (*API).timeseries,
	"pages":        breakdown(store.DimPage),
	"sources":      breakdown(store.DimSource),
	"channels":     breakdown(store.DimChannel),
	"campaigns":    breakdown(store.DimCampaign),
	"devices":      (*API).devices,
	"goals":        (*API).goals,
	"realtime":     (*API).realtime,
	"audit":        (*API).audit,
	"attribution":  (*API).attribution,
	"destinations": (*API).destinations,
	"journeys":     (*API).journey,
	"erasures":     (*API).erasures,
}

// reportNames lists the reports for error messages, so the list cannot go
// stale as reports are added.
func reportNames() string {
	return strings.Join(slices.Sorted(maps.Keys(reports)), ", ")
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/sites/{site}/{report}", a.serve)
	mux.HandleFunc("POST /api/v1/sites/{site}/destinations/{destination}/replay", a.serveReplay)
	mux.HandleFunc("POST /api/v1/sites/{site}/erasures", a.serveErasure)
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	site := r.PathValue("site")
	goals, ok := a.Goals[site]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown site %q", site))
		return
	}
	report, ok := reports[r.PathValue("report")]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown report %q; the reports are %s", r.PathValue("report"), reportNames()))
		return
	}
	p, err := parseParams(r, site, goals, a.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	body, table, err := report(a, r.Context(), p)
	if err != nil {
		status, msg := reportFailure(err)
		if status == http.StatusInternalServerError {
			a.log().Error("report failed", "site", site, "report", r.PathValue("report"), "err", err)
		}
		writeError(w, status, msg)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if p.csv {
		writeCSV(w, site+"-"+r.PathValue("report")+".csv", table)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body) //nolint:errcheck // the client went away
}

func (a *API) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}

// Overview is the overview report: the range's numbers and the previous
// period's of the same length, for comparison.
type Overview struct {
	Site     string       `json:"site"`
	From     time.Time    `json:"from"`
	To       time.Time    `json:"to"`
	Current  store.Totals `json:"current"`
	Previous store.Totals `json:"previous"`
}

func (a *API) overview(ctx context.Context, p params) (any, [][]string, error) {
	cur, err := a.Store.Totals(ctx, p.q)
	if err != nil {
		return nil, nil, err
	}
	prev, err := a.Store.Totals(ctx, p.previous())
	if err != nil {
		return nil, nil, err
	}
	cur, prev = roundTotals(cur), roundTotals(prev)
	table := [][]string{totalsHeader("period"), append([]string{"current"}, totalsRow(cur)...), append([]string{"previous"}, totalsRow(prev)...)}
	return Overview{Site: p.q.Site, From: p.q.From, To: p.q.To, Current: cur, Previous: prev}, table, nil
}

// Series is the timeseries report.
type Series struct {
	Interval string        `json:"interval"`
	Points   []store.Point `json:"points"`
}

func (a *API) timeseries(ctx context.Context, p params) (any, [][]string, error) {
	points, err := a.Store.Series(ctx, p.q, p.step)
	if err != nil {
		return nil, nil, err
	}
	for i := range points {
		points[i].Totals = roundTotals(points[i].Totals)
	}
	table := [][]string{totalsHeader("start")}
	for _, pt := range points {
		table = append(table, append([]string{pt.Start.Format(time.RFC3339)}, totalsRow(pt.Totals)...))
	}
	return Series{Interval: p.interval, Points: points}, table, nil
}

// Breakdown is a report of one dimension's top values.
type Breakdown struct {
	Dimension string      `json:"dimension"`
	Rows      []store.Row `json:"rows"`
}

func breakdown(dim string) func(a *API, ctx context.Context, p params) (any, [][]string, error) {
	return func(a *API, ctx context.Context, p params) (any, [][]string, error) {
		return a.breakdown(ctx, p, dim)
	}
}

func (a *API) breakdown(ctx context.Context, p params, dim string) (any, [][]string, error) {
	rows, err := a.Store.Breakdown(ctx, p.q, dim, p.limit)
	if err != nil {
		return nil, nil, err
	}
	for i := range rows {
		rows[i].Revenue = cents(rows[i].Revenue)
	}
	if rows == nil {
		rows = []store.Row{}
	}
	table := [][]string{{dim, "visitors", "pageviews", "conversions", "revenue"}}
	for _, r := range rows {
		table = append(table, []string{r.Value, itoa(r.Visitors), itoa(r.Pageviews), itoa(r.Conversions), ftoa(r.Revenue)})
	}
	return Breakdown{Dimension: dim, Rows: rows}, table, nil
}

// devices breaks down by device type, browser or OS (?by=device|browser|os).
func (a *API) devices(ctx context.Context, p params) (any, [][]string, error) {
	dim := map[string]string{"": store.DimDevice, "device": store.DimDevice, "browser": store.DimBrowser, "os": store.DimOS}[p.by]
	if dim == "" {
		return nil, nil, badParam(fmt.Errorf("by %q is not device, browser or os", p.by))
	}
	return a.breakdown(ctx, p, dim)
}

// Goals is the goals report.
type Goals struct {
	Goals []store.GoalRow `json:"goals"`
}

func (a *API) goals(ctx context.Context, p params) (any, [][]string, error) {
	rows, err := a.Store.Goals(ctx, p.q, p.goals)
	if err != nil {
		return nil, nil, err
	}
	for i := range rows {
		rows[i].Revenue = cents(rows[i].Revenue)
	}
	if rows == nil {
		rows = []store.GoalRow{}
	}
	table := [][]string{{"goal", "visitors", "completions", "revenue", "conversion_rate"}}
	for _, g := range rows {
		table = append(table, []string{g.Name, itoa(g.Visitors), itoa(g.Completions), ftoa(g.Revenue), ftoa(g.ConversionRate)})
	}
	return Goals{Goals: rows}, table, nil
}

// Realtime is the last 30 minutes: numbers, top pages and sources.
type Realtime struct {
	Since   time.Time    `json:"since"`
	Totals  store.Totals `json:"totals"`
	Pages   []store.Row  `json:"pages"`
	Sources []store.Row  `json:"sources"`
}

// realtimeWindow is how far back the realtime report looks.
const realtimeWindow = 30 * time.Minute

func (a *API) realtime(ctx context.Context, p params) (any, [][]string, error) {
	q := p.q
	q.To = a.now()
	q.From = q.To.Add(-realtimeWindow)
	t, err := a.Store.Totals(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	t = roundTotals(t)
	pages, err := a.Store.Breakdown(ctx, q, store.DimPage, 10)
	if err != nil {
		return nil, nil, err
	}
	sources, err := a.Store.Breakdown(ctx, q, store.DimSource, 10)
	if err != nil {
		return nil, nil, err
	}
	table := [][]string{totalsHeader("since"), append([]string{q.From.Format(time.RFC3339)}, totalsRow(t)...)}
	return Realtime{Since: q.From, Totals: t, Pages: nonNil(pages), Sources: nonNil(sources)}, table, nil
}

func nonNil(rows []store.Row) []store.Row {
	if rows == nil {
		return []store.Row{}
	}
	return rows
}

func totalsHeader(first string) []string {
	return []string{first, "visitors", "sessions", "pageviews", "bounce_rate", "visit_duration_sec", "conversions", "revenue"}
}

func totalsRow(t store.Totals) []string {
	return []string{itoa(t.Visitors), itoa(t.Sessions), itoa(t.Pageviews), ftoa(t.BounceRate), ftoa(t.VisitSecs), itoa(t.Conversions), ftoa(t.Revenue)}
}

// cents rounds an amount to hundredths: sums of float values carry binary
// noise (31687.300000000003) that no report should show.
func cents(v float64) float64 { return math.Round(v*100) / 100 }

// roundTotals rounds revenue to cents and rates and durations to what a
// person reads.
func roundTotals(t store.Totals) store.Totals {
	t.Revenue = cents(t.Revenue)
	t.BounceRate = math.Round(t.BounceRate*10000) / 10000
	t.VisitSecs = math.Round(t.VisitSecs*10) / 10
	return t
}

func itoa(n int64) string   { return strconv.FormatInt(n, 10) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// writeCSV writes a report as a CSV download, defused (package csvsafe):
// page paths and campaign names come from visitors.
func writeCSV(w http.ResponseWriter, name string, table [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	cw := csvsafe.NewWriter(w)
	for _, row := range table {
		cw.Write(row) //nolint:errcheck // Flush reports it
	}
	cw.Flush() //nolint:errcheck // the client went away
}

// reportFailure is the status and message a failed report answers, the
// same for its page and its API: a wrong parameter is 400, a report this
// dashboard's store cannot give is 404, anything else 500 (the message
// then points at the log, which has the error).
func reportFailure(err error) (int, string) {
	if bad := (*paramError)(nil); errors.As(err, &bad) {
		return http.StatusBadRequest, bad.Error()
	}
	if errors.Is(err, errNoAuditLog) || errors.Is(err, errNoDeliveries) || errors.Is(err, errNoJourneys) {
		return http.StatusNotFound, err.Error()
	}
	return http.StatusInternalServerError, "the report failed; the dashboard's log says why"
}

// paramError is a parameter a report found wrong: 400, not 500.
type paramError struct{ err error }

func (e *paramError) Error() string { return e.err.Error() }

func badParam(err error) error { return &paramError{err} }

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg}) //nolint:errcheck // the client went away
}
