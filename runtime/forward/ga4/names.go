package ga4

import (
	"fmt"
	"regexp"
	"strings"
)

var namePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// reservedEventNames are the names the Measurement Protocol refuses: its
// reference's list, and the web stream's automatically collected events
// (Analytics Help "Event naming rules").
var reservedEventNames = map[string]bool{
	"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_impression": true,
	"ad_query": true, "ad_reward": true, "adunit_exposure": true, "app_background": true,
	"app_clear_data": true, "app_exception": true, "app_remove": true, "app_store_refund": true,
	"app_store_subscription_cancel": true, "app_store_subscription_convert": true,
	"app_store_subscription_renew": true, "app_update": true, "app_upgrade": true,
	"dynamic_link_app_open": true, "dynamic_link_app_update": true, "dynamic_link_first_open": true,
	"error": true, "first_open": true, "first_visit": true, "in_app_purchase": true,
	"notification_dismiss": true, "notification_foreground": true, "notification_open": true,
	"notification_receive": true, "os_update": true, "session_start": true,
	"session_start_with_rollout": true, "user_engagement": true,
	"click": true, "file_download": true, "form_start": true, "form_submit": true,
	"page_view": true, "scroll": true, "video_complete": true, "video_progress": true,
	"video_start": true, "view_complete": true, "view_search_results": true,
}

// reservedPrefixes may start neither an event name nor a param name.
var reservedPrefixes = []string{"_", "firebase_", "ga_", "google_", "gtag."}

// CheckEventName returns why GA4 would refuse name as an event name, or nil.
func CheckEventName(name string) error {
	if err := checkName("event name", name); err != nil {
		return err
	}
	if reservedEventNames[name] {
		return fmt.Errorf("event name %q is reserved by GA4", name)
	}
	return nil
}

// CheckParamName returns why GA4 would refuse name as a param name, or nil.
func CheckParamName(name string) error { return checkName("param name", name) }

func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s is empty", what)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%s %q is longer than %d characters", what, name, MaxNameLen)
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("%s %q starts with the reserved prefix %q", what, name, p)
		}
	}
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%s %q must start with a letter and hold only letters, digits and _", what, name)
	}
	return nil
}
