package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/store"
)

// DestinationHealth is how one destination is delivering.
type DestinationHealth struct {
	Name string `json:"name"`
	// Counts are the delivery records per status.
	Counts map[string]int64 `json:"counts"`
	// OldestPending is the received_at of the oldest undelivered event.
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	// RecentFailures are the newest failed deliveries, with their reasons.
	RecentFailures []Failure `json:"recent_failures"`
	// Days are the records of the range's events per UTC day: a falling
	// accepted share is a broken integration.
	Days []DeliveryDay `json:"days"`
}

// DeliveryDay is one day's reconciliation: what was recorded for the
// destination against what the platform accepted.
type DeliveryDay struct {
	Day     string `json:"day"`
	Sent    int64  `json:"sent"`
	Skipped int64  `json:"skipped"`
	Failed  int64  `json:"failed"`
	Pending int64  `json:"pending"`
	// AcceptedShare is sent over the records that were meant to go (all
	// but skipped ones), 0..1; 1 when there were none.
	AcceptedShare float64 `json:"accepted_share"`
}

// Failure is one failed delivery.
type Failure struct {
	EventID  string    `json:"event_id"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// Destinations is the delivery health report.
type Destinations struct {
	Destinations []DestinationHealth `json:"destinations"`
}

// recentFailures is how many failed deliveries the report lists per destination.
const recentFailures = 20

var errNoDeliveries = errors.New("this dashboard's store keeps no delivery records")

func (a *API) deliveries() (store.Deliveries, error) {
	d, ok := a.Store.(store.Deliveries)
	if !ok {
		return nil, errNoDeliveries
	}
	return d, nil
}

func (a *API) destinations(ctx context.Context, p params) (any, [][]string, error) {
	dl, err := a.deliveries()
	if err != nil {
		return nil, nil, err
	}
	rep := Destinations{Destinations: []DestinationHealth{}}
	table := [][]string{{"destination", "pending", "sent", "skipped", "failed", "oldest_pending"}}
	for _, name := range a.Destinations[p.q.Site] {
		h, err := destinationHealth(ctx, dl, p.q, name)
		if err != nil {
			return nil, nil, err
		}
		oldest := ""
		if h.OldestPending != nil {
			oldest = h.OldestPending.Format(time.RFC3339)
		}
		table = append(table, []string{name, itoa(h.Counts[store.DeliveryPending]), itoa(h.Counts[store.DeliverySent]),
			itoa(h.Counts[store.DeliverySkipped]), itoa(h.Counts[store.DeliveryFailed]), oldest})
		rep.Destinations = append(rep.Destinations, h)
	}
	return rep, table, nil
}

func destinationHealth(ctx context.Context, dl store.Deliveries, q store.Query, name string) (DestinationHealth, error) {
	site := q.Site
	st, err := dl.DeliveryStats(ctx, site, name)
	if err != nil {
		return DestinationHealth{}, err
	}
	h := DestinationHealth{Name: name, Counts: st.Counts, RecentFailures: []Failure{}}
	if !st.OldestPending.IsZero() {
		t := st.OldestPending
		h.OldestPending = &t
	}
	failed, err := dl.ListDeliveries(ctx, site, name, store.DeliveryFailed, recentFailures)
	if err != nil {
		return DestinationHealth{}, err
	}
	for _, f := range failed {
		h.RecentFailures = append(h.RecentFailures, Failure{EventID: f.EventID, Reason: f.Reason, Attempts: f.Attempts, At: f.UpdatedAt})
	}
	days, err := dl.DeliveryDays(ctx, site, name, q.From, q.To)
	if err != nil {
		return DestinationHealth{}, err
	}
	h.Days = []DeliveryDay{}
	for _, d := range days {
		dd := DeliveryDay{Day: d.Day, Sent: d.Counts[store.DeliverySent], Skipped: d.Counts[store.DeliverySkipped],
			Failed: d.Counts[store.DeliveryFailed], Pending: d.Counts[store.DeliveryPending], AcceptedShare: 1}
		if meant := dd.Sent + dd.Failed + dd.Pending; meant > 0 {
			dd.AcceptedShare = math.Round(float64(dd.Sent)/float64(meant)*10000) / 10000
		}
		h.Days = append(h.Days, dd)
	}
	return h, nil
}

// serveReplay makes a destination's failed deliveries pending again (all,
// or the one event_id names), answering {"replayed": n}; the running
// forwarder sends them. It needs confirm=yes, and it is audited. The guard
// in front checks the session's CSRF token.
func (a *API) serveReplay(w http.ResponseWriter, r *http.Request) {
	site, dest := r.PathValue("site"), r.PathValue("destination")
	if !slices.Contains(a.Destinations[site], dest) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("site %q has no destination %q", site, dest))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if r.PostFormValue("confirm") != "yes" {
		writeError(w, http.StatusBadRequest, "replaying sends events to the platform again: confirm with confirm=yes")
		return
	}
	dl, err := a.deliveries()
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	eventID := r.PostFormValue("event_id")
	n, err := dl.Replay(r.Context(), site, dest, eventID)
	if err != nil {
		a.log().Error("replay failed", "site", site, "destination", dest, "err", err)
		writeError(w, http.StatusInternalServerError, "the replay failed; the dashboard's log says why")
		return
	}
	a.auditReplay(r, site, dest, eventID, n)
	if r.PostFormValue("from") == "page" {
		http.Redirect(w, r, "/sites/"+site+"/destinations?replayed="+strconv.Itoa(n), http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"destination": dest, "replayed": n}) //nolint:errcheck // the client went away
}

// auditReplay records who replayed what.
func (a *API) auditReplay(r *http.Request, site, dest, eventID string, n int) {
	detail := fmt.Sprintf("destination %s: %d failed deliveries", dest, n)
	if eventID != "" {
		detail = fmt.Sprintf("destination %s: event %s (%d)", dest, eventID, n)
	}
	a.record(r, site, "replay", detail)
}
