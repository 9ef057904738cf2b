package pinterestfake

import (
	"fmt"
	"regexp"
)

// Event is a processed event, as the fake read it.
type Event struct {
	EventName      string     `json:"event_name"`
	ActionSource   string     `json:"action_source"`
	EventTime      int64      `json:"event_time"`
	EventID        string     `json:"event_id"`
	EventSourceURL string     `json:"event_source_url"`
	UserData       UserData   `json:"user_data"`
	CustomData     CustomData `json:"custom_data"`
}

// UserData is the matching data; hashed fields are arrays.
type UserData struct {
	Email           []string `json:"em"`
	Phone           []string `json:"ph"`
	FirstName       []string `json:"fn"`
	LastName        []string `json:"ln"`
	Gender          []string `json:"ge"`
	DateOfBirth     []string `json:"db"`
	City            []string `json:"ct"`
	State           []string `json:"st"`
	Zip             []string `json:"zp"`
	Country         []string `json:"country"`
	ExternalID      []string `json:"external_id"`
	HashedMaids     []string `json:"hashed_maids"`
	ClientIPAddress string   `json:"client_ip_address"`
	ClientUserAgent string   `json:"client_user_agent"`
	ClickID         string   `json:"click_id"`
	PartnerID       string   `json:"partner_id"`
}

// CustomData is what the schema allows in custom_data that tests look at.
type CustomData struct {
	Value      *string   `json:"value"`
	Currency   string    `json:"currency"`
	OrderID    string    `json:"order_id"`
	ContentIDs []string  `json:"content_ids"`
	Contents   []Content `json:"contents"`
	NumItems   int64     `json:"num_items"`
}

// Content is one product.
type Content struct {
	ID        string `json:"id"`
	ItemPrice string `json:"item_price"`
	Quantity  int64  `json:"quantity"`
	ItemName  string `json:"item_name"`
	ItemBrand string `json:"item_brand"`
}

// EventNames are the event names Pinterest accepts.
var EventNames = map[string]bool{
	"add_to_cart": true, "checkout": true, "custom": true, "lead": true, "page_visit": true,
	"search": true, "signup": true, "view_category": true, "watch_video": true,
}

var actionSources = map[string]bool{"app_android": true, "app_ios": true, "web": true, "offline": true}

var (
	hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)
	decimal   = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	currency  = regexp.MustCompile(`^[A-Z]{3}$`)
)

// checkRules checks what the schema cannot say; "" when the event is fine.
func checkRules(ev Event) string {
	switch {
	case !EventNames[ev.EventName]:
		return fmt.Sprintf("event_name %q is not a supported event name", ev.EventName)
	case !actionSources[ev.ActionSource]:
		return fmt.Sprintf("action_source %q is not a supported action source", ev.ActionSource)
	case ev.EventTime <= 0:
		return "event_time must be a unix time in seconds"
	}
	u := ev.UserData
	for name, hs := range map[string][]string{
		"em": u.Email, "ph": u.Phone, "fn": u.FirstName, "ln": u.LastName, "ge": u.Gender, "db": u.DateOfBirth,
		"ct": u.City, "st": u.State, "zp": u.Zip, "country": u.Country, "external_id": u.ExternalID, "hashed_maids": u.HashedMaids,
	} {
		for _, h := range hs {
			if !hexDigest.MatchString(h) {
				return fmt.Sprintf("user_data.%s must hold SHA-256 digests in lower-case hex, got %q", name, h)
			}
		}
	}
	return checkCustomData(ev.CustomData)
}

func checkCustomData(cd CustomData) string {
	if cd.Value != nil && !decimal.MatchString(*cd.Value) {
		return fmt.Sprintf("custom_data.value %q is not a decimal number", *cd.Value)
	}
	if cd.Currency != "" && !currency.MatchString(cd.Currency) {
		return fmt.Sprintf("custom_data.currency %q is not an ISO 4217 code", cd.Currency)
	}
	for _, c := range cd.Contents {
		if c.ItemPrice != "" && !decimal.MatchString(c.ItemPrice) {
			return fmt.Sprintf("custom_data.contents[].item_price %q is not a decimal number", c.ItemPrice)
		}
	}
	return ""
}
