package tiktok

import (
	"encoding/json"
	"strings"

	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/internal/products"
)

// serverEvent is one element of data[].
type serverEvent struct {
	Event      string      `json:"event"`
	EventTime  int64       `json:"event_time"`
	EventID    string      `json:"event_id"`
	User       user        `json:"user"`
	Properties *properties `json:"properties,omitempty"`
	Page       *page       `json:"page,omitempty"`
}

type user struct {
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	TTClid     string `json:"ttclid,omitempty"`
	TTP        string `json:"ttp,omitempty"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"user_agent,omitempty"`
}

type properties struct {
	Currency    string    `json:"currency,omitempty"`
	Value       *float64  `json:"value,omitempty"`
	OrderID     string    `json:"order_id,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Contents    []content `json:"contents,omitempty"`
}

type content struct {
	ContentID       string   `json:"content_id"`
	ContentName     string   `json:"content_name,omitempty"`
	ContentCategory string   `json:"content_category,omitempty"`
	Brand           string   `json:"brand,omitempty"`
	Quantity        int64    `json:"quantity,omitempty"`
	Price           *float64 `json:"price,omitempty"`
}

type page struct {
	URL      string `json:"url,omitempty"`
	Referrer string `json:"referrer,omitempty"`
}

// rejectReason says why TikTok would refuse the item, or "".
func rejectReason(it forward.Item) string {
	switch {
	case it.Name == "":
		return "event has no TikTok event name"
	case it.Event.EventID == "":
		return "event has no event id: TikTok deduplicates on it"
	case it.Event.Value != nil && it.Event.Currency == "":
		return "event has a value but no currency: TikTok requires a currency with a value"
	}
	return ""
}

// buildEvent maps an item to TikTok's event.
func buildEvent(it forward.Item) serverEvent {
	e := it.Event
	ev := serverEvent{
		Event:     it.Name,
		EventTime: e.Timestamp.Unix(),
		EventID:   e.EventID,
		User:      buildUser(e),
	}
	if e.URL != "" || e.Referrer != "" {
		ev.Page = &page{URL: e.URL, Referrer: e.Referrer}
	}
	props := properties{Currency: strings.ToUpper(e.Currency), Value: e.Value, OrderID: e.OrderID}
	props.Contents = contents(products.Read(e.Properties))
	if props.Contents != nil {
		props.ContentType = "product"
	}
	if props.Currency != "" || props.Value != nil || props.OrderID != "" || props.Contents != nil {
		ev.Properties = &props
	}
	return ev
}

func buildUser(e event.Event) user {
	return user{
		Email:      digest(e.User.EmailSHA256, enrich.NormalizeEmail),
		Phone:      digest(e.User.PhoneE164SHA256, normalizePhoneE164),
		ExternalID: digest(e.UserID, func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }),
		TTClid:     e.ClickIDs["ttclid"],
		TTP:        ttp(e.Properties),
		IP:         e.RawIP,
		UserAgent:  e.UserAgent,
	}
}

// contents are the products as TikTok's contents: the items when the event
// lists them, else one entry per content id.
func contents(p products.Products) []content {
	var cs []content
	for _, it := range p.Items {
		cs = append(cs, content{ContentID: it.ID, ContentName: it.Name, ContentCategory: it.Category, Brand: it.Brand, Quantity: it.Quantity, Price: it.Price})
	}
	if cs != nil {
		return cs
	}
	for _, id := range p.IDs {
		cs = append(cs, content{ContentID: id})
	}
	return cs
}

// digest returns v lower-cased when it already is a SHA-256 hex digest,
// else the digest of normalize(v); "" when there is nothing to send.
func digest(v string, normalize func(string) string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if enrich.IsSHA256Hex(v) {
		return strings.ToLower(v)
	}
	if n := normalize(v); n != "" {
		return enrich.SHA256Hex(n)
	}
	return ""
}

// normalizePhoneE164 is TikTok's phone form: E.164 with "+".
func normalizePhoneE164(s string) string {
	if d := enrich.NormalizePhone(s, ""); d != "" {
		return "+" + d
	}
	return ""
}

// ttp is the _ttp cookie when the tracker put it into the properties.
func ttp(props json.RawMessage) string {
	if len(props) == 0 {
		return ""
	}
	var p struct {
		TTP       string `json:"ttp"`
		CookieTTP string `json:"_ttp"`
	}
	if json.Unmarshal(props, &p) != nil {
		return ""
	}
	if p.TTP != "" {
		return p.TTP
	}
	return p.CookieTTP
}
