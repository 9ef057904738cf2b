package store

import (
	"encoding/json"
	"fmt"

	"github.com/trackstack/trackstack/runtime/event"
)

// EventColumns are the columns both SQL stores read events with, in the
// order their scanners expect. Text columns are coalesced so that they scan
// into plain strings.
const EventColumns = `site, received_at, event_id, type, name, source, occurred_at,
    coalesce(visitor_id, ''), coalesce(session_id, ''), coalesce(user_id, ''), coalesce(url, ''), coalesce(referrer, ''),
    coalesce(utm_source, ''), coalesce(utm_medium, ''), coalesce(utm_campaign, ''), coalesce(utm_term, ''), coalesce(utm_content, ''),
    coalesce(channel, ''), click_ids, value, coalesce(currency, ''), coalesce(order_id, ''),
    coalesce(consent_ad_storage, ''), coalesce(consent_analytics_storage, ''), coalesce(consent_ad_user_data, ''), coalesce(consent_ad_personalization, ''),
    coalesce(device_browser, ''), coalesce(device_os, ''), coalesce(device_type, ''),
    coalesce(ip, ''), coalesce(user_agent, ''), coalesce(screen, ''), coalesce(language, ''),
    coalesce(fbp, ''), coalesce(fbc, ''), coalesce(ga_client_id, ''),
    user_data, properties`

// SelectEvents is the SELECT both SQL stores read events with.
const SelectEvents = `SELECT ` + EventColumns + `
FROM events`

// DecodeJSONColumns fills e's fields stored as JSON (click_ids, user_data,
// properties), as both SQL stores read them; nil means NULL.
func DecodeJSONColumns(e *event.Event, clickIDs, user, props []byte) error {
	if clickIDs != nil {
		if ids, ok := decodeClickIDs(clickIDs); ok && e.ClickIDs == nil {
			e.ClickIDs = ids
		} else if err := json.Unmarshal(clickIDs, &e.ClickIDs); err != nil {
			return fmt.Errorf("while decoding click ids of event %q: %w", e.EventID, err)
		}
	}
	if user != nil {
		if u, ok := decodeUser(user); ok && e.User.Empty() {
			e.User = u
		} else if err := json.Unmarshal(user, &e.User); err != nil {
			return fmt.Errorf("while decoding user data of event %q: %w", e.EventID, err)
		}
	}
	if props != nil {
		e.Properties = json.RawMessage(props)
	}
	return nil
}
