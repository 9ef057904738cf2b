package dashboard

import (
	"context"
	"errors"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store"
)

// Step is one event of a customer journey.
type Step struct {
	At       time.Time         `json:"at"`
	Type     event.Type        `json:"type"`
	Name     string            `json:"name"`
	URL      string            `json:"url,omitempty"`
	Channel  string            `json:"channel,omitempty"`
	Source   string            `json:"source,omitempty"`
	Campaign string            `json:"campaign,omitempty"`
	ClickIDs map[string]string `json:"click_ids,omitempty"`
	Device   string            `json:"device,omitempty"`
	Visitor  string            `json:"visitor_id,omitempty"`
	User     string            `json:"user_id,omitempty"`
	Value    *float64          `json:"value,omitempty"`
	Currency string            `json:"currency,omitempty"`
	OrderID  string            `json:"order_id,omitempty"`
}

// Journey is the journeys report: one person's timeline, oldest first.
type Journey struct {
	Steps []Step `json:"steps"`
}

var errNoJourneys = errors.New("this dashboard's store cannot look up journeys")

// journeyKey reads the person to find: visitor_id, user_id, email (hashed
// here with the normalization ingest stored, never stored or logged raw;
// a 64-hex digest is taken as is) or order_id.
func journeyKey(p params) (store.JourneyKey, bool) {
	k := store.JourneyKey{VisitorID: p.person["visitor_id"], UserID: p.person["user_id"], OrderID: p.person["order_id"]}
	if email := p.person["email"]; email != "" {
		var ok bool
		if k.EmailSHA256, ok = enrich.EmailDigest(email); !ok {
			k.EmailSHA256 = "-" // not an email: matches nothing, rather than everything
		}
	}
	return k, k != store.JourneyKey{}
}

func (a *API) journey(ctx context.Context, p params) (any, [][]string, error) {
	table := [][]string{{"at", "type", "name", "url", "channel", "source", "campaign", "device", "value", "order_id"}}
	key, ok := journeyKey(p)
	if !ok {
		return Journey{Steps: []Step{}}, table, nil
	}
	jl, isLookup := a.Store.(store.JourneyLookup)
	if !isLookup {
		return nil, nil, errNoJourneys
	}
	key.StitchByEmail = a.StitchByEmail[p.q.Site]
	evs, err := jl.Journey(ctx, p.q.Site, key, p.limit*10)
	if errors.Is(err, store.ErrJourneyKey) {
		return nil, nil, badParam(err)
	}
	if err != nil {
		return nil, nil, err
	}
	steps := make([]Step, 0, len(evs))
	for _, e := range evs {
		s := Step{At: e.ReceivedAt, Type: e.Type, Name: e.Name, URL: e.URL, Channel: e.Channel, Source: e.UTM.Source,
			Campaign: e.UTM.Campaign, ClickIDs: e.ClickIDs, Device: e.Device.Type, Visitor: e.VisitorID, User: e.UserID,
			Value: e.Value, Currency: e.Currency, OrderID: e.OrderID}
		steps = append(steps, s)
		value := ""
		if e.Value != nil {
			value = ftoa(*e.Value) + " " + e.Currency
		}
		table = append(table, []string{e.ReceivedAt.Format(time.RFC3339), string(e.Type), e.Name, e.URL, e.Channel, e.UTM.Source, e.UTM.Campaign, e.Device.Type, value, e.OrderID})
	}
	return Journey{Steps: steps}, table, nil
}
