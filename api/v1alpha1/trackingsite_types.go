package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// TrackingSiteSpec describes one tracked web site: where its events are
// stored, how the tracker script behaves, and how its collector and dashboard run.
// +kubebuilder:validation:XValidation:rule="!has(self.tracker) || !has(self.tracker.firstPartyHost) || self.domains.exists(d, self.tracker.firstPartyHost == d || self.tracker.firstPartyHost.endsWith('.' + d))",message="tracker.firstPartyHost must be one of spec.domains or a subdomain of one, so the collector stays first-party"
type TrackingSiteSpec struct {
	// Domains are the host names the site is served on, e.g. shop.example.com.
	// The collector accepts browser events (CORS) only from these hosts and
	// their subdomains.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\\\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$') || self == 'localhost'",message="each domain must be a lower-case host name such as shop.example.com (no scheme, port or path)"
	Domains []string `json:"domains"`

	// Storage says where the site's events are stored. Required in a cluster.
	Storage StorageSpec `json:"storage"`

	// Tracker configures the script served to visitors.
	// +kubebuilder:default={}
	// +optional
	Tracker TrackerSpec `json:"tracker,omitempty"`

	// Privacy configures what is kept about visitors.
	// +kubebuilder:default={}
	// +optional
	Privacy PrivacySpec `json:"privacy,omitempty"`

	// Goals turn events or page views into named conversions shown on the dashboard.
	// +kubebuilder:validation:MaxItems=50
	// +listType=map
	// +listMapKey=name
	// +optional
	Goals []Goal `json:"goals,omitempty"`

	// Collector configures the collector Deployment.
	// +kubebuilder:default={}
	// +optional
	Collector CollectorSpec `json:"collector,omitempty"`

	// Dashboard configures the dashboard Deployment and its Ingress.
	// +kubebuilder:default={}
	// +optional
	Dashboard DashboardSpec `json:"dashboard,omitempty"`

	// DeletionPolicy says what happens to the site's stored data when the
	// TrackingSite is deleted: Retain keeps it (default), Delete purges it.
	// With Delete the site carries the finalizer trackstack.dev/purge-data;
	// on deletion the operator stops the site's collector, dashboard and
	// forwarders, runs the Job <site>-purge (`trackstack purge`) that deletes
	// every row of the site from the store, and releases the finalizer once
	// the Job succeeded. Ready=False with reason Purging while it runs,
	// PurgeFailed (Stalled=True) when the Job failed: delete the Job to run it
	// again. Setting Retain removes the finalizer, also during a deletion.
	// +kubebuilder:validation:Enum=Retain;Delete
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy string `json:"deletionPolicy,omitempty"`

	// Suspend stops the operator from changing anything for this site; the
	// running collector and dashboard keep running as they are.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Deletion policies.
const (
	DeletionPolicyRetain = "Retain"
	DeletionPolicyDelete = "Delete"
)

// StorageSpec says where events are stored.
type StorageSpec struct {
	// Postgres is the PostgreSQL database holding the events.
	Postgres PostgresStorage `json:"postgres"`
}

// PostgresStorage points at a PostgreSQL database through a Secret.
type PostgresStorage struct {
	// SecretRef names the Secret key holding the connection URI,
	// e.g. postgres://user:pass@host:5432/db?sslmode=require. The key defaults to "uri".
	SecretRef SecretKeyReference `json:"secretRef"`
}

// TrackerSpec configures the tracker script.
// +kubebuilder:validation:XValidation:rule="!has(self.tls) || has(self.firstPartyHost)",message="tracker.tls needs tracker.firstPartyHost: TLS certificates are issued for a host name"
// +kubebuilder:validation:XValidation:rule="!has(self.ingressClassName) || has(self.firstPartyHost)",message="tracker.ingressClassName needs tracker.firstPartyHost"
type TrackerSpec struct {
	// Path is the first-party path the collector is served under; the script
	// is {path}/t.js. Defaults to /_ts.
	// +kubebuilder:default=/_ts
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^(/[A-Za-z0-9._~-]+)+$`
	// +optional
	Path string `json:"path,omitempty"`

	// FirstPartyHost is a host on the site's own domain (one of spec.domains or
	// a subdomain, e.g. shop.example.com) where browsers reach the collector
	// under Path, so the tracker and its cookie are first-party. The
	// operator creates the Ingress <site>-collector routing Path on this host
	// to the collector. Unset: the collector is served on dashboard.host
	// when that is set; with neither, browsers cannot reach it, status.snippet
	// is empty and Ready has reason NoPublicHost (server-side events still work).
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`
	// +optional
	FirstPartyHost string `json:"firstPartyHost,omitempty"`

	// TLS serves FirstPartyHost over HTTPS: the Ingress <site>-collector
	// lists the host with this certificate, and status.collectorURL and the
	// snippet use https://. Unset: they use http://, which an https page
	// cannot load. When your own Ingress already has a certificate for the
	// host, name its Secret here (secretName only), so that every Ingress
	// controller serves the collector's path with it.
	// +optional
	TLS *IngressTLS `json:"tls,omitempty"`

	// IngressClassName selects the Ingress controller serving FirstPartyHost,
	// usually the one serving the site itself. Unset: dashboard.ingressClassName
	// when set, else the cluster default.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	IngressClassName *string `json:"ingressClassName,omitempty"`

	// Cookieless identifies visitors by a daily-rotating salted hash of site,
	// IP and user agent instead of a cookie. Defaults to false.
	// +optional
	Cookieless bool `json:"cookieless,omitempty"`

	// Consent configures how visitor consent gates tracking.
	// +kubebuilder:default={}
	// +optional
	Consent ConsentSpec `json:"consent,omitempty"`

	// Autocapture says which interactions the script records on its own.
	// +kubebuilder:default={}
	// +optional
	Autocapture AutocaptureSpec `json:"autocapture,omitempty"`

	// Pixels are browser pixels the script fires with the same event_id as the
	// server-side copy, so the platforms can deduplicate.
	// +optional
	Pixels PixelsSpec `json:"pixels,omitempty"`
}

// ConsentSpec configures consent handling.
type ConsentSpec struct {
	// Mode is none (track without asking), optIn (send nothing until the page
	// grants consent) or optOut (track until the page denies it). Defaults to none.
	// +kubebuilder:validation:Enum=none;optIn;optOut
	// +kubebuilder:default=none
	// +optional
	Mode string `json:"mode,omitempty"`
}

// Consent modes.
const (
	ConsentModeNone   = "none"
	ConsentModeOptIn  = "optIn"
	ConsentModeOptOut = "optOut"
)

// AutocaptureSpec says which interactions are recorded without code on the page.
type AutocaptureSpec struct {
	// Clicks records clicks on elements marked data-ts-event. Defaults to true.
	// +kubebuilder:default=true
	// +optional
	Clicks *bool `json:"clicks,omitempty"`
	// Forms records form submissions (never field values). Defaults to true.
	// +kubebuilder:default=true
	// +optional
	Forms *bool `json:"forms,omitempty"`
	// OutboundLinks records clicks on links to other hosts. Defaults to true.
	// +kubebuilder:default=true
	// +optional
	OutboundLinks *bool `json:"outboundLinks,omitempty"`
	// SPA records page views on history navigation (pushState, popstate). Defaults to true.
	// +kubebuilder:default=true
	// +optional
	SPA *bool `json:"spa,omitempty"`
}

// PixelsSpec lists browser pixels fired alongside the tracker.
type PixelsSpec struct {
	// Meta is the Meta (Facebook) pixel.
	// +optional
	Meta *MetaPixel `json:"meta,omitempty"`
	// GA4 is the Google Analytics 4 tag.
	// +optional
	GA4 *GA4Pixel `json:"ga4,omitempty"`
	// GoogleAds is the Google Ads tag.
	// +optional
	GoogleAds *GoogleAdsPixel `json:"googleAds,omitempty"`
	// Pinterest is the Pinterest tag.
	// +optional
	Pinterest *PinterestPixel `json:"pinterest,omitempty"`
	// TikTok is the TikTok pixel.
	// +optional
	TikTok *TikTokPixel `json:"tiktok,omitempty"`
}

// MetaPixel is a Meta pixel.
type MetaPixel struct {
	// PixelID is the numeric Meta pixel (dataset) id.
	// +kubebuilder:validation:Pattern=`^[0-9]{5,20}$`
	PixelID string `json:"pixelID"`
}

// GA4Pixel is a GA4 web stream.
type GA4Pixel struct {
	// MeasurementID is the stream's measurement id, e.g. G-ABC123.
	// +kubebuilder:validation:Pattern=`^G-[A-Z0-9]{4,20}$`
	MeasurementID string `json:"measurementID"`
}

// GoogleAdsPixel is a Google Ads conversion tag.
type GoogleAdsPixel struct {
	// ConversionID is the tag id, e.g. AW-123456789.
	// +kubebuilder:validation:Pattern=`^AW-[0-9]{4,20}$`
	ConversionID string `json:"conversionID"`
	// ConversionLabel is the label of the conversion action fired on conversions.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]*$`
	// +optional
	ConversionLabel string `json:"conversionLabel,omitempty"`
}

// PinterestPixel is a Pinterest tag.
type PinterestPixel struct {
	// TagID is the numeric Pinterest tag id.
	// +kubebuilder:validation:Pattern=`^[0-9]{5,20}$`
	TagID string `json:"tagID"`
}

// TikTokPixel is a TikTok pixel.
type TikTokPixel struct {
	// PixelCode is the TikTok pixel code.
	// +kubebuilder:validation:Pattern=`^[A-Z0-9]{10,32}$`
	PixelCode string `json:"pixelCode"`
}

// PrivacySpec configures what is kept about visitors.
type PrivacySpec struct {
	// IPAnonymization is applied before an IP address is stored: none keeps
	// it, truncate zeroes the last octet (IPv4) or last 80 bits (IPv6), full
	// drops it. Defaults to truncate.
	// +kubebuilder:validation:Enum=none;truncate;full
	// +kubebuilder:default=truncate
	// +optional
	IPAnonymization string `json:"ipAnonymization,omitempty"`

	// StitchByEmail lets customer journeys join the visitors and users
	// whose events carry the same hashed email, as well as those sharing a
	// user id. Off by default: only ids the site set join journeys.
	// +optional
	StitchByEmail bool `json:"stitchByEmail,omitempty"`
}

// IP anonymization settings.
const (
	IPAnonymizationNone     = "none"
	IPAnonymizationTruncate = "truncate"
	IPAnonymizationFull     = "full"
)

// Goal names a conversion: an event by name, or a page view by path.
// +kubebuilder:validation:XValidation:rule="has(self.event) != has(self.path)",message="a goal sets exactly one of event or path"
type Goal struct {
	// Name of the goal as shown on the dashboard.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// Event is the event name that counts as this goal, e.g. purchase.
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:MinLength=1
	// +optional
	Event string `json:"event,omitempty"`
	// Path is a page path that counts as this goal; a trailing * matches a prefix.
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^/[^\s]*$`
	// +optional
	Path string `json:"path,omitempty"`
	// ValueFrom names the event field that carries the goal's value, e.g. value.
	// +kubebuilder:validation:MaxLength=100
	// +optional
	ValueFrom string `json:"valueFrom,omitempty"`
}

// DashboardSpec configures the dashboard.
// +kubebuilder:validation:XValidation:rule="!has(self.tls) || has(self.host)",message="dashboard.tls needs dashboard.host: TLS certificates are issued for a host name"
// +kubebuilder:validation:XValidation:rule="!has(self.ingressClassName) || has(self.host)",message="dashboard.ingressClassName needs dashboard.host"
type DashboardSpec struct {
	// Host is the host name the Ingress <site>-dashboard serves the dashboard
	// on, e.g. stats.example.com. Without tracker.firstPartyHost it also
	// routes tracker.path on this host to the collector, so browsers can
	// load the tracker (its cookie is then third-party to the site's pages).
	// Unset: no Ingress; the dashboard is reachable through its Service only.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`
	// +optional
	Host string `json:"host,omitempty"`

	// IngressClassName selects the Ingress controller. Unset: the cluster default.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	IngressClassName *string `json:"ingressClassName,omitempty"`

	// TLS serves Host over HTTPS (the dashboard, and the collector when it
	// is served on this host).
	// +optional
	TLS *IngressTLS `json:"tls,omitempty"`

	// Replicas is the number of dashboard pods. Defaults to 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// OIDC lets people sign into the dashboard with an OpenID Connect
	// issuer (Google, Microsoft Entra ID, Keycloak, Dex, ...) besides the
	// admin password. Unset: only the admin password signs in.
	// +optional
	OIDC *DashboardOIDC `json:"oidc,omitempty"`
}

// DashboardOIDC configures sign-in with an OpenID Connect issuer. A user
// signs in when the issuer vouches for a verified e-mail that is listed in
// allowedEmails, whose domain is in allowedDomains, or who is in one of
// allowedGroups. Register the dashboard at the issuer with the redirect URL
// <dashboardURL>/login/oidc/callback.
// +kubebuilder:validation:XValidation:rule="(has(self.allowedEmails) && size(self.allowedEmails) > 0) || (has(self.allowedDomains) && size(self.allowedDomains) > 0) || (has(self.allowedGroups) && size(self.allowedGroups) > 0)",message="oidc needs at least one of allowedEmails, allowedDomains, allowedGroups: otherwise nobody could sign in, or, worse, anyone with an account at the issuer"
type DashboardOIDC struct {
	// IssuerURL is the issuer, e.g. https://accounts.google.com; its
	// discovery document is read from <issuerURL>/.well-known/openid-configuration.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https://[^\s]+$`
	IssuerURL string `json:"issuerURL"`

	// ClientID is the dashboard's client ID at the issuer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	ClientID string `json:"clientID"`

	// ClientSecretRef names the Secret key holding the client secret. The
	// operator mounts it into the dashboard pods only.
	ClientSecretRef OIDCClientSecretReference `json:"clientSecretRef"`

	// AllowedEmails are the e-mail addresses that may sign in, compared
	// without regard to case.
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MaxLength=254
	// +kubebuilder:validation:items:Pattern=`^[^@\s]+@[^@\s]+$`
	// +optional
	AllowedEmails []string `json:"allowedEmails,omitempty"`

	// AllowedDomains are the e-mail domains whose users may sign in, e.g.
	// example.com (exactly that domain; subdomains are not included).
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`
	// +optional
	AllowedDomains []string `json:"allowedDomains,omitempty"`

	// AllowedGroups are the groups (values of groupsClaim in the ID token)
	// whose members may sign in.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	AllowedGroups []string `json:"allowedGroups,omitempty"`

	// GroupsClaim is the ID-token claim listing the user's groups.
	// Defaults to groups.
	// +kubebuilder:default=groups
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +optional
	GroupsClaim string `json:"groupsClaim,omitempty"`
}

// OIDCClientSecretReference names the key of a Secret, in the site's
// namespace, that holds an OIDC client secret.
type OIDCClientSecretReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Key in the Secret's data. Defaults to clientSecret.
	// +kubebuilder:default=clientSecret
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	Key string `json:"key,omitempty"`
}

// IngressTLS is the certificate an Ingress serves a host with: an existing
// Secret, or one cert-manager issues (its ingress-shim reads the issuer
// annotation the operator sets on that Ingress).
// +kubebuilder:validation:XValidation:rule="!(has(self.clusterIssuer) && has(self.issuer))",message="set at most one of tls.clusterIssuer and tls.issuer"
// +kubebuilder:validation:XValidation:rule="has(self.secretName) || has(self.clusterIssuer) || has(self.issuer)",message="tls needs secretName, clusterIssuer or issuer"
type IngressTLS struct {
	// SecretName is the TLS Secret (kubernetes.io/tls) for the host, in the
	// site's namespace. With an issuer set, cert-manager writes it; unset, it
	// defaults to <site>-dashboard-tls (dashboard.tls) or <site>-collector-tls
	// (tracker.tls).
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// ClusterIssuer is a cert-manager ClusterIssuer that issues the certificate.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:MinLength=1
	// +optional
	ClusterIssuer string `json:"clusterIssuer,omitempty"`
	// Issuer is a cert-manager Issuer in the site's namespace that issues the certificate.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:MinLength=1
	// +optional
	Issuer string `json:"issuer,omitempty"`
}

// TrackingSiteStatus is what the operator observed of a TrackingSite.
type TrackingSiteStatus struct {
	ObjectStatus `json:",inline"`

	// CollectorURL is the public base URL browsers load the tracker from and
	// send events to; the collector's endpoints live under
	// {collectorURL}{tracker.path}. It is https:// when the Ingress serving
	// the host has TLS for it. Empty when no public host serves the
	// collector (Ready reason NoPublicHost).
	// +optional
	CollectorURL string `json:"collectorURL,omitempty"`
	// DashboardURL is where the dashboard is served.
	// +optional
	DashboardURL string `json:"dashboardURL,omitempty"`
	// Snippet is the <script> tag to put on the site's pages. Empty when
	// browsers cannot reach the collector (Ready reason NoPublicHost).
	// +optional
	Snippet string `json:"snippet,omitempty"`
	// Destinations counts the site's Destinations by readiness, e.g. "2/3 ready".
	// +optional
	Destinations string `json:"destinations,omitempty"`
}

// TrackingSite is one tracked web site and the collector and dashboard serving it.
// +kubebuilder:object:root=true
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 30",message="a TrackingSite name is at most 30 characters: it prefixes the names of the objects the operator creates"
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tsite;tsites,categories=trackstack
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Collector",type=string,JSONPath=`.status.collectorURL`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TrackingSite struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TrackingSiteSpec `json:"spec,omitempty"`
	// +kubebuilder:default={observedGeneration:-1}
	Status TrackingSiteStatus `json:"status,omitempty"`
}

// TrackingSiteList is a list of TrackingSites.
// +kubebuilder:object:root=true
type TrackingSiteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TrackingSite `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TrackingSite{}, &TrackingSiteList{})
}
