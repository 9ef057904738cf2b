package pinterest

import (
	"strconv"
	"strings"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/internal/products"
)

// eventNames are the event names Pinterest accepts.
var eventNames = map[string]bool{
	"add_to_cart": true, "checkout": true, "custom": true, "lead": true, "page_visit": true,
	"search": true, "signup": true, "view_category": true, "watch_video": true,
}

type serverEvent struct {
	EventName      string      `json:"event_name"`
	ActionSource   string      `json:"action_source"`
	EventTime      int64       `json:"event_time"`
	EventID        string      `json:"event_id"`
	EventSourceURL string      `json:"event_source_url,omitempty"`
	UserData       userData    `json:"user_data"`
	CustomData     *customData `json:"custom_data,omitempty"`
}

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
	ClientUserAgent string   `json:"client_user_agent,omitempty"`
	ClickID         string   `json:"click_id,omitempty"`
}

type customData struct {
	Value      string    `json:"value,omitempty"`
	Currency   string    `json:"currency,omitempty"`
	OrderID    string    `json:"order_id,omitempty"`
	ContentIDs []string  `json:"content_ids,omitempty"`
	Contents   []content `json:"contents,omitempty"`
	NumItems   int64     `json:"num_items,omitempty"`
}

type content struct {
	ID        string `json:"id"`
	Quantity  int64  `json:"quantity,omitempty"`
	ItemPrice string `json:"item_price,omitempty"`
	ItemName  string `json:"item_name,omitempty"`
	ItemBrand string `json:"item_brand,omitempty"`
}

// rejectReason says why Pinterest would refuse the item, or "".
func rejectReason(it forward.Item) string {
	e := it.Event
	switch {
	case !eventNames[it.Name]:
		return "event name " + strconv.Quote(it.Name) + " is not one of Pinterest's (add_to_cart, checkout, custom, lead, page_visit, search, signup, view_category, watch_video)"
	case e.EventID == "":
		return "event has no event id: Pinterest requires one"
	case digest(e.User.EmailSHA256, enrich.NormalizeEmail) == nil && (e.RawIP == "" || e.UserAgent == ""):
		return "event has neither an email nor both the visitor's IP and user agent: Pinterest requires one of them"
	}
	return ""
}

func buildEvent(it forward.Item) serverEvent {
	e := it.Event
	ev := serverEvent{
		EventName:      it.Name,
		ActionSource:   "web",
		EventTime:      e.Timestamp.Unix(),
		EventID:        e.EventID,
		EventSourceURL: e.URL,
		UserData:       buildUserData(e),
	}
	cd := customData{Currency: strings.ToUpper(e.Currency), OrderID: e.OrderID}
	if e.Value != nil {
		cd.Value = formatNumber(*e.Value)
	}
	prods := products.Read(e.Properties)
	cd.ContentIDs = prods.IDs
	for _, c := range prods.Items {
		pc := content{ID: c.ID, Quantity: c.Quantity, ItemName: c.Name, ItemBrand: c.Brand}
		if c.Price != nil {
			pc.ItemPrice = formatNumber(*c.Price)
		}
		cd.Contents = append(cd.Contents, pc)
		cd.NumItems += c.Quantity
	}
	if cd.Value != "" || cd.Currency != "" || cd.OrderID != "" || cd.ContentIDs != nil || cd.Contents != nil {
		ev.CustomData = &cd
	}
	return ev
}

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
		ExternalID:      digest(e.UserID, func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }),
		ClientIPAddress: e.RawIP,
		ClientUserAgent: e.UserAgent,
		ClickID:         e.ClickIDs["epik"],
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

// formatNumber writes a value as Pinterest's string: the shortest decimal
// that reads back as the same float ("49.9", "10").
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
