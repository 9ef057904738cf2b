package forwarder

import (
	"fmt"
	"net/http"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/forward/ga4"
	"github.com/trackstack/trackstack/runtime/forward/googleads"
	"github.com/trackstack/trackstack/runtime/forward/googleadsapi"
	"github.com/trackstack/trackstack/runtime/forward/meta"
	"github.com/trackstack/trackstack/runtime/forward/onesignal"
	"github.com/trackstack/trackstack/runtime/forward/pinterest"
	"github.com/trackstack/trackstack/runtime/forward/telegram"
	"github.com/trackstack/trackstack/runtime/forward/tiktok"
	"github.com/trackstack/trackstack/runtime/forward/webhook"
)

// NewPlatform returns the adapter for a destination's type.
func NewPlatform(d config.Destination, creds forward.Credentials, client *http.Client) (forward.Platform, error) {
	switch d.Type {
	case v1alpha1.DestinationMeta:
		return platform(meta.New(d, creds, client))
	case v1alpha1.DestinationGoogleAds:
		return platform(googleads.New(d, creds, client))
	case v1alpha1.DestinationGoogleAdsAPI:
		return platform(googleadsapi.New(d, creds, client))
	case v1alpha1.DestinationGA4:
		return platform(ga4.New(d, creds, client))
	case v1alpha1.DestinationPinterest:
		return platform(pinterest.New(d, creds, client))
	case v1alpha1.DestinationTikTok:
		return platform(tiktok.New(d, creds, client))
	case v1alpha1.DestinationWebhook:
		return platform(webhook.New(d, creds, client))
	case v1alpha1.DestinationTelegram:
		return platform(telegram.New(d, creds, client))
	case v1alpha1.DestinationOneSignal:
		return platform(onesignal.New(d, creds, client))
	}
	return nil, fmt.Errorf("destination %s: type %q is not supported by this runtime", d.Name, d.Type)
}

// platform returns p as a forward.Platform, and no typed nil on error.
func platform[P forward.Platform](p P, err error) (forward.Platform, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}
