// Package config is the contract between the operator and the runtime: the
// configuration of one site that the operator renders into the site's
// ConfigMap and that every runtime subcommand (collect, forward, dashboard,
// retention) reads. Standalone mode renders the same thing from YAML files.
//
// Secrets never appear here: the config names the files they are mounted at.
package config

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// APIVersion identifies this version of the runtime configuration. A runtime
// refuses a file of another version instead of misreading it.
const APIVersion = "runtime.trackstack.dev/v1"

// Kind is the kind of a runtime configuration file.
const Kind = "RuntimeConfig"

// Well-known file names and mount points shared by the operator and the runtime.
const (
	// FileName is the ConfigMap key and file name of the rendered configuration.
	FileName = "config.yaml"
	// ConfigDir is where the ConfigMap is mounted in runtime pods.
	ConfigDir = "/etc/trackstack/config"
	// KeysDir is where the site's generated Secret (<site>-keys) is mounted.
	KeysDir = "/etc/trackstack/keys"
	// StorageDir is where the storage Secret is mounted.
	StorageDir = "/etc/trackstack/storage"
	// CredentialsDir is where a Destination's credentials Secret is mounted.
	CredentialsDir = "/etc/trackstack/credentials"
)

// Keys of the generated <site>-keys Secret.
const (
	// KeyIngest is the bearer token of the server-side /v1/events API.
	KeyIngest = "ingestKey"
	// KeyAdminPassword is the dashboard password of user admin.
	KeyAdminPassword = "adminPassword"
	// KeySigning signs visitor cookies and dashboard sessions.
	KeySigning = "signingKey"
	// KeyVisitorSalt seeds the daily-rotating salt of cookieless visitor ids.
	KeyVisitorSalt = "visitorSalt"
	// KeyIPSealing is the AES-256 key (package sealing) that encrypts the
	// raw client IP kept for the destinations that match on it (Meta,
	// TikTok) until they have delivered the event.
	KeyIPSealing = "ipSealingKey"
)

// GeneratedKeys lists every key of the <site>-keys Secret, in a stable order.
var GeneratedKeys = []string{KeyIngest, KeyAdminPassword, KeySigning, KeyVisitorSalt, KeyIPSealing}

// Runtime is the whole configuration of one site's runtime.
type Runtime struct {
	// APIVersion is always APIVersion.
	APIVersion string `json:"apiVersion"`
	// Kind is always Kind.
	Kind string `json:"kind"`

	Site    Site    `json:"site"`
	Storage Storage `json:"storage"`
	Tracker Tracker `json:"tracker"`
	Privacy Privacy `json:"privacy"`
	// Limits are the collector's rate limits; nil (a file rendered before
	// limits existed) means DefaultLimits.
	Limits       *Limits       `json:"limits,omitempty"`
	Goals        []Goal        `json:"goals,omitempty"`
	Destinations []Destination `json:"destinations,omitempty"`
	Retention    []Retention   `json:"retention,omitempty"`
	// Dashboard configures the dashboard's sign-in; nil: password only.
	Dashboard *Dashboard `json:"dashboard,omitempty"`
}

// Site identifies the site.
type Site struct {
	// Name is the TrackingSite name; events carry it as their site.
	Name string `json:"name"`
	// Namespace is the TrackingSite's namespace (empty in standalone mode).
	Namespace string `json:"namespace,omitempty"`
	// Domains are the site's host names; browser events are accepted from them and their subdomains.
	Domains []string `json:"domains"`
	// CollectorURL is the public base URL of the collector.
	CollectorURL string `json:"collectorURL,omitempty"`
	// DashboardURL is the public URL of the dashboard.
	DashboardURL string `json:"dashboardURL,omitempty"`
	// KeysDir is the directory holding the generated keys, one file per key.
	KeysDir string `json:"keysDir"`
}

// Storage drivers.
const (
	DriverPostgres = "postgres"
	DriverSQLite   = "sqlite"
)

// Storage says where events are stored.
type Storage struct {
	// Driver is postgres or sqlite.
	Driver string `json:"driver"`
	// DSNFile is the file holding the PostgreSQL connection URI.
	DSNFile string `json:"dsnFile,omitempty"`
	// SQLitePath is the SQLite database file (standalone mode).
	SQLitePath string `json:"sqlitePath,omitempty"`
}

// Tracker configures the script and the browser endpoint.
type Tracker struct {
	// Path is the path prefix the collector serves the script and browser endpoint under.
	Path string `json:"path"`
	// FirstPartyHost is the site-owned host that serves the collector, if any.
	FirstPartyHost string `json:"firstPartyHost,omitempty"`
	// Cookieless identifies visitors without a cookie.
	Cookieless bool `json:"cookieless"`
	// ConsentMode is none, optIn or optOut.
	ConsentMode string `json:"consentMode"`
	// Autocapture says what the script records by itself.
	Autocapture Autocapture `json:"autocapture"`
	// Pixels are browser pixels fired with the same event_id.
	Pixels v1alpha1.PixelsSpec `json:"pixels,omitempty"`
}

// Autocapture is the resolved autocapture setting (no unset values).
type Autocapture struct {
	Clicks        bool `json:"clicks"`
	Forms         bool `json:"forms"`
	OutboundLinks bool `json:"outboundLinks"`
	SPA           bool `json:"spa"`
}

// Privacy configures what is stored about visitors.
type Privacy struct {
	// IPAnonymization is none, truncate or full.
	IPAnonymization string `json:"ipAnonymization"`
	// StitchByEmail joins journeys by hashed email too.
	StitchByEmail bool `json:"stitchByEmail,omitempty"`
}

// Limits are a collector replica's rate limits, every default resolved.
// 0 means unlimited.
type Limits struct {
	ServerEventsPerSecond  int32 `json:"serverEventsPerSecond"`
	ServerBurst            int32 `json:"serverBurst"`
	BrowserEventsPerSecond int32 `json:"browserEventsPerSecond"`
	BrowserBurst           int32 `json:"browserBurst"`
	IPRequestsPerSecond    int32 `json:"ipRequestsPerSecond"`
	IPBurst                int32 `json:"ipBurst"`
	BotEventsPerSecond     int32 `json:"botEventsPerSecond"`
}

// DefaultLimits are the limits of a site that sets none. They are flood
// guards above the collector's design load (50,000 events/s per replica),
// not quotas. The bot pace allows 50 events/s per IP, because mobile
// carriers put many people behind one IPv4 address.
func DefaultLimits() Limits {
	return Limits{
		ServerEventsPerSecond:  50_000,
		ServerBurst:            100_000,
		BrowserEventsPerSecond: 100_000,
		BrowserBurst:           200_000,
		IPRequestsPerSecond:    20,
		IPBurst:                60,
		BotEventsPerSecond:     50,
	}
}

// EffectiveLimits returns the configured limits, or the defaults.
func (r *Runtime) EffectiveLimits() Limits {
	if r.Limits == nil {
		return DefaultLimits()
	}
	return *r.Limits
}

// Goal names a conversion.
type Goal struct {
	Name      string `json:"name"`
	Event     string `json:"event,omitempty"`
	Path      string `json:"path,omitempty"`
	ValueFrom string `json:"valueFrom,omitempty"`
}

// Destination is one forwarding target, without its secrets.
type Destination struct {
	// Name is the Destination's name.
	Name string `json:"name"`
	// Type is the platform (see v1alpha1.Destination*).
	Type string `json:"type"`
	// Paused destinations record but do not send.
	Paused bool `json:"paused,omitempty"`
	// CreatedAt is when the Destination was created: a new forwarder sends
	// the events received from then on (earlier ones only on a backfill).
	// Zero (standalone files) means from the forwarder's first start.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// CredentialsDir holds the credentials, one file per Secret key.
	CredentialsDir string `json:"credentialsDir"`
	// Events maps event names to platform names; empty means the platform default.
	Events []v1alpha1.EventMapping `json:"events,omitempty"`
	// ConsentRequires lists the consent purposes an event needs to be sent.
	ConsentRequires []string `json:"consentRequires,omitempty"`

	// Exactly one of the blocks below is set, matching Type.
	Meta         *v1alpha1.MetaDestination      `json:"meta,omitempty"`
	GoogleAds    *v1alpha1.GoogleAdsDestination `json:"googleAds,omitempty"`
	GoogleAdsAPI *v1alpha1.GoogleAdsDestination `json:"googleAdsAPI,omitempty"`
	GA4          *v1alpha1.GA4Destination       `json:"ga4,omitempty"`
	Pinterest    *v1alpha1.PinterestDestination `json:"pinterest,omitempty"`
	TikTok       *v1alpha1.TikTokDestination    `json:"tiktok,omitempty"`
	Webhook      *v1alpha1.WebhookDestination   `json:"webhook,omitempty"`
	Telegram     *v1alpha1.TelegramDestination  `json:"telegram,omitempty"`
	OneSignal    *v1alpha1.OneSignalDestination `json:"onesignal,omitempty"`
}

// Retention is one retention policy.
type Retention struct {
	Name                 string `json:"name"`
	MaxAgeDays           int32  `json:"maxAgeDays"`
	AnonymizeIPAfterDays *int32 `json:"anonymizeIPAfterDays,omitempty"`
	DeletePIIAfterDays   *int32 `json:"deletePIIAfterDays,omitempty"`
	// Schedule, TimeZone and Suspend say when it runs; standalone reads
	// them (in a cluster, the CronJob does).
	Schedule string `json:"schedule,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
	Suspend  bool   `json:"suspend,omitempty"`
}

// DefaultRetentionSchedule is when a policy without a schedule runs.
const DefaultRetentionSchedule = "17 3 * * *"

// Marshal renders the configuration as YAML.
func (r *Runtime) Marshal() ([]byte, error) {
	return yaml.Marshal(r)
}

// Parse reads a configuration, rejecting unknown fields and other versions
// so that a runtime older or newer than the operator fails loudly.
func Parse(data []byte) (*Runtime, error) {
	var r Runtime
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		return nil, fmt.Errorf("parsing runtime config: %w", err)
	}
	if r.APIVersion != APIVersion || r.Kind != Kind {
		return nil, fmt.Errorf("runtime config is %s %q, this runtime reads %s %q",
			r.Kind, r.APIVersion, Kind, APIVersion)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Load reads a configuration file.
func Load(path string) (*Runtime, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading runtime config: %w", err)
	}
	r, err := Parse(bytes.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Validate checks what the runtime cannot work without.
func (r *Runtime) Validate() error {
	switch {
	case r.Site.Name == "":
		return fmt.Errorf("runtime config: site.name is empty")
	case r.Tracker.Path == "" || r.Tracker.Path[0] != '/':
		return fmt.Errorf("runtime config: tracker.path %q must start with /", r.Tracker.Path)
	}
	if l := r.Limits; l != nil {
		for _, f := range []struct {
			name string
			v    int32
		}{
			{"serverEventsPerSecond", l.ServerEventsPerSecond}, {"serverBurst", l.ServerBurst},
			{"browserEventsPerSecond", l.BrowserEventsPerSecond}, {"browserBurst", l.BrowserBurst},
			{"ipRequestsPerSecond", l.IPRequestsPerSecond}, {"ipBurst", l.IPBurst},
			{"botEventsPerSecond", l.BotEventsPerSecond},
		} {
			if f.v < 0 {
				return fmt.Errorf("runtime config: limits.%s is %d; use 0 for unlimited or a positive number", f.name, f.v)
			}
		}
	}
	switch r.Storage.Driver {
	case DriverPostgres:
		if r.Storage.DSNFile == "" {
			return fmt.Errorf("runtime config: storage.dsnFile is required for postgres")
		}
	case DriverSQLite:
		if r.Storage.SQLitePath == "" {
			return fmt.Errorf("runtime config: storage.sqlitePath is required for sqlite")
		}
	default:
		return fmt.Errorf("runtime config: storage.driver %q is not postgres or sqlite", r.Storage.Driver)
	}
	return r.Dashboard.validate()
}

// Destination returns the destination of that name.
func (r *Runtime) Destination(name string) (*Destination, bool) {
	for i := range r.Destinations {
		if r.Destinations[i].Name == name {
			return &r.Destinations[i], true
		}
	}
	return nil, false
}

// MatchesOnIP reports whether the destination sends the visitor's raw IP to
// its platform (Meta, TikTok, and Pinterest for events without an email):
// the collector then keeps the raw IP sealed until such destinations have
// delivered the event.
func (d *Destination) MatchesOnIP() bool {
	switch d.Type {
	case v1alpha1.DestinationMeta, v1alpha1.DestinationTikTok, v1alpha1.DestinationPinterest:
		return true
	}
	return false
}

// NeedsRawIP reports whether any destination of the site matches on the IP.
func (r *Runtime) NeedsRawIP() bool {
	for i := range r.Destinations {
		if r.Destinations[i].MatchesOnIP() {
			return true
		}
	}
	return false
}

// DestinationNames are the names of the site's Destinations, in order.
func (r *Runtime) DestinationNames() []string {
	names := make([]string, len(r.Destinations))
	for i, d := range r.Destinations {
		names[i] = d.Name
	}
	return names
}
