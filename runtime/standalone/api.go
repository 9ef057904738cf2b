package standalone

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// Limits of the events API.
const (
	DefaultEventsLimit = 50
	MaxEventsLimit     = 1000
)

// Recenter reads the newest events of a site (store.Store does).
type Recenter interface {
	Recent(ctx context.Context, site string, limit int) ([]event.Event, error)
}

// EventsAPI serves GET /api/v1/sites/{site}/events?limit=N: the newest
// events of a site, newest first, as a JSON array, to the admin (Admin).
// Answers: 401 (with WWW-Authenticate) without valid credentials, 429 to a
// client that sent too many wrong ones, 404 for an unknown site, 400 for a
// limit that is not 1 to MaxEventsLimit.
type EventsAPI struct {
	Store Recenter
	// Sites are the sites served.
	Sites  map[string]bool
	Admin  *Admin
	Logger *slog.Logger
}

// apiEvent is an event as the API shows it: every documented field is
// present (empty rather than left out), so clients need no guessing.
// Matching data (hashed email, phone, names) is not shown.
type apiEvent struct {
	EventID    string            `json:"event_id"`
	Site       string            `json:"site"`
	Type       event.Type        `json:"type"`
	Name       string            `json:"name"`
	Source     event.Source      `json:"source"`
	Timestamp  time.Time         `json:"timestamp"`
	ReceivedAt time.Time         `json:"received_at"`
	URL        string            `json:"url"`
	Referrer   string            `json:"referrer"`
	VisitorID  string            `json:"visitor_id"`
	SessionID  string            `json:"session_id"`
	UserID     string            `json:"user_id"`
	Channel    string            `json:"channel"`
	UTM        apiUTM            `json:"utm"`
	ClickIDs   map[string]string `json:"click_ids"`
	Consent    apiConsent        `json:"consent"`
	Value      *float64          `json:"value"`
	Currency   string            `json:"currency"`
	OrderID    string            `json:"order_id"`
	IP         string            `json:"ip"`
	Device     event.Device      `json:"device"`
	Screen     string            `json:"screen"`
	Language   string            `json:"language"`
	Properties json.RawMessage   `json:"properties,omitempty"`
}

type apiUTM struct {
	Source   string `json:"source"`
	Medium   string `json:"medium"`
	Campaign string `json:"campaign"`
	Term     string `json:"term"`
	Content  string `json:"content"`
}

type apiConsent struct {
	AdStorage         string `json:"ad_storage"`
	AnalyticsStorage  string `json:"analytics_storage"`
	AdUserData        string `json:"ad_user_data"`
	AdPersonalization string `json:"ad_personalization"`
}

func toAPI(e *event.Event) apiEvent {
	ids := e.ClickIDs
	if ids == nil {
		ids = map[string]string{}
	}
	return apiEvent{
		EventID: e.EventID, Site: e.Site, Type: e.Type, Name: e.Name, Source: e.Source,
		Timestamp: e.Timestamp, ReceivedAt: e.ReceivedAt,
		URL: e.URL, Referrer: e.Referrer, VisitorID: e.VisitorID, SessionID: e.SessionID, UserID: e.UserID,
		Channel:  e.Channel,
		UTM:      apiUTM(e.UTM),
		ClickIDs: ids,
		Consent:  apiConsent(e.Consent),
		Value:    e.Value, Currency: e.Currency, OrderID: e.OrderID,
		IP: e.IP, Device: e.Device, Screen: e.Screen, Language: e.Language,
		Properties: e.Properties,
	}
}

// ServeHTTP expects the site in the path value "site" (mux pattern
// GET /api/v1/sites/{site}/events).
func (a *EventsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !a.Admin.authorize(w, r, realmAPI, jsonError) {
		return
	}
	site := r.PathValue("site")
	if !a.Sites[site] {
		jsonError(w, http.StatusNotFound, "unknown site "+strconv.Quote(site))
		return
	}
	limit := DefaultEventsLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxEventsLimit {
			jsonError(w, http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(MaxEventsLimit))
			return
		}
		limit = n
	}
	evs, err := a.Store.Recent(r.Context(), site, limit)
	if err != nil {
		if a.Logger != nil {
			a.Logger.Error("reading events", "site", site, "err", err)
		}
		jsonError(w, http.StatusInternalServerError, "reading events failed")
		return
	}
	out := make([]apiEvent, len(evs))
	for i := range evs {
		out[i] = toAPI(&evs[i])
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.Encode(out) //nolint:errcheck // the client is gone
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg}) //nolint:errcheck // the client is gone
}
