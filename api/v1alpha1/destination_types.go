package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Destination types.
const (
	DestinationMeta         = "meta"
	DestinationGoogleAds    = "googleAds"
	DestinationGoogleAdsAPI = "googleAdsAPI"
	DestinationGA4          = "ga4"
	DestinationPinterest    = "pinterest"
	DestinationTikTok       = "tiktok"
	DestinationWebhook      = "webhook"
	DestinationTelegram     = "telegram"
	DestinationOneSignal    = "onesignal"
)

// CredentialKeys lists, per destination type, the keys its credentials
// Secret must hold. The operator checks them; the forwarder reads them as files.
var CredentialKeys = map[string][]string{
	DestinationMeta:         {"accessToken"},
	DestinationGoogleAds:    {"clientID", "clientSecret", "refreshToken"},
	DestinationGoogleAdsAPI: {"clientID", "clientSecret", "refreshToken", "developerToken"},
	DestinationGA4:          {"apiSecret"},
	DestinationPinterest:    {"accessToken"},
	DestinationTikTok:       {"accessToken"},
	DestinationWebhook:      {"secret"},
	DestinationTelegram:     {"botToken"},
	DestinationOneSignal:    {"apiKey"},
}

// DestinationSpec sends a site's conversions to one platform.
// +kubebuilder:validation:XValidation:rule="(self.type == 'meta') == has(self.meta)",message="spec.meta is required when type is meta, and allowed only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'googleAds') == has(self.googleAds)",message="spec.googleAds is required when type is googleAds, and allowed only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'googleAdsAPI') == has(self.googleAdsAPI)",message="spec.googleAdsAPI is required when type is googleAdsAPI, and allowed only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'ga4') == has(self.ga4)",message="spec.ga4 is required when type is ga4, and allowed only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'pinterest') == has(self.pinterest)",message="spec.pinterest is required when type is pinterest, and allowed only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'tiktok') == has(self.tiktok)",message="spec.tiktok is required when type is tiktok, and allowed only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'webhook') == has(self.webhook)",message="spec.webhook is required when type is webhook, and allowed only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'telegram') == has(self.telegram)",message="spec.telegram is required when type is telegram, and allowed only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'onesignal') == has(self.onesignal)",message="spec.onesignal is required when type is onesignal, and allowed only then"
type DestinationSpec struct {
	// SiteRef names the TrackingSite, in the same namespace, whose events are sent. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="siteRef is immutable: create a new Destination for another site"
	SiteRef LocalObjectReference `json:"siteRef"`

	// Type is the platform: meta, googleAds (Data Manager API), googleAdsAPI
	// (legacy uploadClickConversions), ga4, pinterest, tiktok, webhook,
	// telegram or onesignal. The settings block of the same name must be set.
	// +kubebuilder:validation:Enum=meta;googleAds;googleAdsAPI;ga4;pinterest;tiktok;webhook;telegram;onesignal
	Type string `json:"type"`

	// CredentialsSecretRef names the Secret holding the platform credentials.
	// Its keys depend on type: meta, pinterest, tiktok: accessToken; googleAds:
	// clientID, clientSecret, refreshToken; googleAdsAPI: those and
	// developerToken; ga4: apiSecret; webhook: secret; telegram: botToken;
	// onesignal: apiKey. It is mounted read-only into the forwarder.
	CredentialsSecretRef LocalObjectReference `json:"credentialsSecretRef"`

	// Meta configures the Meta Conversions API.
	// +optional
	Meta *MetaDestination `json:"meta,omitempty"`
	// GoogleAds configures Google Ads through the Data Manager API.
	// +optional
	GoogleAds *GoogleAdsDestination `json:"googleAds,omitempty"`
	// GoogleAdsAPI configures Google Ads through the legacy Google Ads API
	// (uploadClickConversions and conversion adjustments).
	// +optional
	GoogleAdsAPI *GoogleAdsDestination `json:"googleAdsAPI,omitempty"`
	// GA4 configures the GA4 Measurement Protocol.
	// +optional
	GA4 *GA4Destination `json:"ga4,omitempty"`
	// Pinterest configures the Pinterest Conversions API.
	// +optional
	Pinterest *PinterestDestination `json:"pinterest,omitempty"`
	// TikTok configures the TikTok Events API.
	// +optional
	TikTok *TikTokDestination `json:"tiktok,omitempty"`
	// Webhook posts events as signed JSON to a URL.
	// +optional
	Webhook *WebhookDestination `json:"webhook,omitempty"`
	// Telegram sends sale alerts to a Telegram chat.
	// +optional
	Telegram *TelegramDestination `json:"telegram,omitempty"`
	// OneSignal sends sale alerts as OneSignal push notifications.
	// +optional
	OneSignal *OneSignalDestination `json:"onesignal,omitempty"`

	// Events maps event names to the platform's event names. Empty: the
	// platform's default mapping (purchase → Purchase, lead → Lead, ...).
	// +kubebuilder:validation:MaxItems=50
	// +optional
	Events []EventMapping `json:"events,omitempty"`

	// Consent lists the consent purposes an event must carry to be sent.
	// +optional
	Consent DestinationConsent `json:"consent,omitempty"`

	// Paused stops sending; events keep being recorded and are sent when
	// unpaused. The forwarder is scaled to zero meanwhile.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// Resources of the forwarder container. Defaults to 50m CPU / 64Mi requested, 256Mi limit.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// Endpoint is shared by every settings block.
type Endpoint struct {
	// Endpoint replaces the platform API's scheme and host (its path is kept),
	// for egress proxies and tests. Unset: the platform's own.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/[^\s]*)?$`
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
}

// MetaDestination configures the Meta Conversions API.
type MetaDestination struct {
	Endpoint `json:",inline"`
	// PixelID is the Meta pixel (dataset) id events are sent to.
	// +kubebuilder:validation:Pattern=`^[0-9]{5,20}$`
	PixelID string `json:"pixelID"`
	// TestEventCode sends events to Events Manager's Test Events tab instead of production.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]*$`
	// +optional
	TestEventCode string `json:"testEventCode,omitempty"`
}

// GoogleAdsDestination configures Google Ads conversion uploads.
type GoogleAdsDestination struct {
	Endpoint `json:",inline"`
	// TokenURL replaces Google's OAuth2 token URL, for egress proxies and tests.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/[^\s]*)?$`
	// +optional
	TokenURL string `json:"tokenURL,omitempty"`
	// CustomerID is the Google Ads account, 10 digits without dashes.
	// +kubebuilder:validation:Pattern=`^[0-9]{10}$`
	CustomerID string `json:"customerID"`
	// ConversionActionID is the numeric id of the conversion action.
	// +kubebuilder:validation:Pattern=`^[0-9]{1,20}$`
	ConversionActionID string `json:"conversionActionID"`
	// LoginCustomerID is the manager account used to log in, 10 digits, when access goes through one.
	// +kubebuilder:validation:Pattern=`^[0-9]{10}$`
	// +optional
	LoginCustomerID string `json:"loginCustomerID,omitempty"`
	// ValidateOnly makes Google check each request without recording any
	// conversion (validateOnly in both APIs), for trying a setup. Default false.
	// +optional
	ValidateOnly bool `json:"validateOnly,omitempty"`
}

// GA4Destination configures the GA4 Measurement Protocol.
type GA4Destination struct {
	Endpoint `json:",inline"`
	// MeasurementID is the web stream's measurement id, e.g. G-ABC123.
	// +kubebuilder:validation:Pattern=`^G-[A-Z0-9]{4,20}$`
	MeasurementID string `json:"measurementID"`
	// Debug sends to the Measurement Protocol's validation server
	// (/debug/mp/collect), which reports problems and records nothing.
	// Default false.
	// +optional
	Debug bool `json:"debug,omitempty"`
}

// PinterestDestination configures the Pinterest Conversions API.
type PinterestDestination struct {
	Endpoint `json:",inline"`
	// AdAccountID is the numeric Pinterest ad account id.
	// +kubebuilder:validation:Pattern=`^[0-9]{1,20}$`
	AdAccountID string `json:"adAccountID"`
	// Test sends events with ?test=true: Pinterest validates them and
	// records nothing. Default false.
	// +optional
	Test bool `json:"test,omitempty"`
}

// TikTokDestination configures the TikTok Events API.
type TikTokDestination struct {
	Endpoint `json:",inline"`
	// PixelCode is the TikTok pixel code events are sent to.
	// +kubebuilder:validation:Pattern=`^[A-Z0-9]{10,32}$`
	PixelCode string `json:"pixelCode"`
	// TestEventCode sends events to Events Manager's test events instead of production.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]*$`
	// +optional
	TestEventCode string `json:"testEventCode,omitempty"`
}

// WebhookDestination posts events to a URL, signed with HMAC-SHA256.
type WebhookDestination struct {
	// URL receives a POST of each batch.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/[^\s]*)?$`
	URL string `json:"url"`
}

// TelegramDestination sends sale alerts to a Telegram chat.
type TelegramDestination struct {
	Endpoint `json:",inline"`
	// ChatID is the chat, group or channel id (e.g. -1001234567890) or @channelname.
	// +kubebuilder:validation:Pattern=`^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,32})$`
	ChatID string `json:"chatID"`
}

// OneSignalDestination sends sale alerts as push notifications.
type OneSignalDestination struct {
	Endpoint `json:",inline"`
	// AppID is the OneSignal app id (a UUID).
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
	AppID string `json:"appID"`
}

// EventMapping sends a trackstack event under the platform's name for it.
type EventMapping struct {
	// Match is the trackstack event name, e.g. purchase; * matches every conversion.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	Match string `json:"match"`
	// SendAs is the platform's event name, e.g. Purchase.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	SendAs string `json:"sendAs"`
	// MinValue sends only events whose value is at least this amount (in
	// the event's own currency), e.g. "100" to alert only on large sales.
	// Unset: every matching event.
	// +kubebuilder:validation:Pattern=`^[0-9]{1,12}(\.[0-9]{1,6})?$`
	// +optional
	MinValue string `json:"minValue,omitempty"`
}

// DestinationConsent gates sending on the visitor's consent.
type DestinationConsent struct {
	// Requires lists consent purposes (Google Consent Mode v2 names) that must
	// be granted for an event to be sent.
	// +kubebuilder:validation:MaxItems=4
	// +listType=set
	// +kubebuilder:validation:items:Enum=ad_storage;analytics_storage;ad_user_data;ad_personalization
	// +optional
	Requires []string `json:"requires,omitempty"`
}

// DestinationStatus is what the operator observed of a Destination.
type DestinationStatus struct {
	ObjectStatus `json:",inline"`

	// CredentialsHash is a hash of the credentials the forwarder runs with;
	// it changes when the Secret is rotated.
	// +optional
	CredentialsHash string `json:"credentialsHash,omitempty"`
}

// Destination sends one site's conversions server-side to an ad platform or alert channel.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tdest;tdests,categories=trackstack
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 40",message="a Destination name is at most 40 characters: it is part of the forwarder Deployment's name"
// +kubebuilder:printcolumn:name="Site",type=string,JSONPath=`.spec.siteRef.name`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Destination struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec DestinationSpec `json:"spec,omitempty"`
	// +kubebuilder:default={observedGeneration:-1}
	Status DestinationStatus `json:"status,omitempty"`
}

// DestinationList is a list of Destinations.
// +kubebuilder:object:root=true
type DestinationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Destination `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Destination{}, &DestinationList{})
}
