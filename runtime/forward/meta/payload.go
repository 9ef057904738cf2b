package meta

import (
	"strconv"
	"strings"
	"time"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/internal/products"
)

// serverEvent is one element of data[].
type serverEvent struct {
	EventName      string      `json:"event_name"`
	EventTime      int64       `json:"event_time"`
	EventID        string      `json:"event_id"`
	ActionSource   string      `json:"action_source"`
	EventSourceURL string      `json:"event_source_url"`
	UserData       userData    `json:"user_data"`
	CustomData     *customData `json:"custom_data,omitempty"`
}

// userData is Meta's customer information: hashed fields are arrays of
// digests, the rest are sent as they are.
type userData struct {
	Email           []string `json:"em,omitempty"`
	Phone           []string `json:"ph,omitempty"`
	FirstName       []string `json:"fn,omitempty"`
	LastName        []string `json:"ln,omitempty"`
	City            []string `json:"ct,omitempty"`
	Zip             []string `json:"zp,omitempty"`
	Country         []string `json:"country,omitempty"`
	ExternalID      []string `json:"external_id,omitempty"`
	ClientIPAddress string   `json:"client_ip_address,omitempty"`
	ClientUserAgent string   `json:"client_user_agent"`
	FBC             string   `json:"fbc,omitempty"`
	FBP             string   `json:"fbp,omitempty"`
}

type customData struct {
	Value      *float64  `json:"value,omitempty"`
	Currency   string    `json:"currency,omitempty"`
	OrderID    string    `json:"order_id,omitempty"`
	ContentIDs []string  `json:"content_ids,omitempty"`
	Contents   []content `json:"contents,omitempty"`
}

type content struct {
	ID        string   `json:"id"`
	Quantity  int64    `json:"quantity,omitempty"`
	ItemPrice *float64 `json:"item_price,omitempty"`
}

// rejectReason says why Meta would refuse it (and with it the whole
// request), or "" when it can be sent.
func rejectReason(it forward.Item, now time.Time) string {
	e := it.Event
	switch {
	case now.Sub(e.Timestamp) > MaxAge-ageMargin:
		return "event is older than 7 days: Meta rejects events older than that"
	case e.URL == "":
		return "event has no URL: Meta requires event_source_url for website events"
	case e.UserAgent == "":
		return "event has no user agent: Meta requires client_user_agent for website events"
	case it.Name == "Purchase" && (e.Value == nil || e.Currency == ""):
		return "purchase has no value or currency: Meta requires both for Purchase"
	}
	return ""
}

// buildEvent maps an item to Meta's server event.
func buildEvent(it forward.Item) serverEvent {
	e := it.Event
	ev := serverEvent{
		EventName:      it.Name,
		EventTime:      e.Timestamp.Unix(),
		EventID:        e.EventID,
		ActionSource:   "website",
		EventSourceURL: e.URL,
		UserData:       buildUserData(e),
	}
	cd := customData{Value: e.Value, Currency: strings.ToUpper(e.Currency), OrderID: e.OrderID}
	prods := products.Read(e.Properties)
	cd.ContentIDs = prods.IDs
	for _, c := range prods.Items {
		cd.Contents = append(cd.Contents, content{ID: c.ID, Quantity: c.Quantity, ItemPrice: c.Price})
	}
	if cd.Value != nil || cd.Currency != "" || cd.OrderID != "" || cd.ContentIDs != nil || cd.Contents != nil {
		ev.CustomData = &cd
	}
	return ev
}

// buildUserData hashes what is not yet hashed, by Meta's normalization.
func buildUserData(e event.Event) userData {
	u := e.User
	return userData{
		Email:           digest(u.EmailSHA256, enrich.NormalizeEmail),
		Phone:           digest(u.PhoneSHA256, func(s string) string { return enrich.NormalizePhone(s, "") }),
		FirstName:       digest(u.FirstNameSHA256, enrich.NormalizeName),
		LastName:        digest(u.LastNameSHA256, enrich.NormalizeName),
		City:            digest(u.CitySHA256, enrich.NormalizeCity),
		Zip:             digest(u.ZipSHA256, func(s string) string { return enrich.NormalizeZip(s, "") }),
		Country:         digest(u.CountrySHA256, enrich.NormalizeCountry),
		ExternalID:      digest(e.UserID, normalizeExternalID),
		ClientIPAddress: e.RawIP,
		ClientUserAgent: e.UserAgent,
		FBC:             fbc(e),
		FBP:             e.FBP,
	}
}

// digest returns v as a one-element list of its SHA-256 hex digest: v
// lower-cased when it already is one, else the digest of normalize(v);
// nil when there is nothing to send.
func digest(v string, normalize func(string) string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if enrich.IsSHA256Hex(v) {
		return []string{strings.ToLower(v)}
	}
	if n := normalize(v); n != "" {
		return []string{enrich.SHA256Hex(n)}
	}
	return nil
}

func normalizeExternalID(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// fbc is the _fbc cookie, or the value Meta's pixel would have set from the
// fbclid of the landing URL: the event's time stands in for the time the
// click id was first seen, which the store does not keep.
func fbc(e event.Event) string {
	if e.FBC != "" {
		return e.FBC
	}
	id := e.ClickIDs["fbclid"]
	if id == "" {
		return ""
	}
	return "fb.1." + strconv.FormatInt(e.Timestamp.UnixMilli(), 10) + "." + id
}
