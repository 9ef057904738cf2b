package config

import (
	"fmt"
	"path"
	"sort"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// RenderOptions are the parts of the configuration that depend on where the
// runtime runs (a pod or standalone).
type RenderOptions struct {
	// Storage overrides the storage section. Zero: PostgreSQL through the
	// site's storage Secret mounted at StorageDir.
	Storage *Storage
	// KeysDir overrides KeysDir.
	KeysDir string
	// CredentialsRoot overrides the directory under which each Destination's
	// credentials are found (CredentialsRoot/<destination>/). Zero: CredentialsDir.
	CredentialsRoot string
	// OIDCDir overrides OIDCDir, where the OIDC client secret is found.
	OIDCDir string
	// CollectorURL and DashboardURL are the public URLs, when known.
	CollectorURL string
	DashboardURL string
}

// Render turns a TrackingSite and its Destinations and RetentionPolicies into
// the runtime configuration. It resolves every default, so the runtime never
// guesses. The result is deterministic: the same input renders the same bytes.
func Render(site *v1alpha1.TrackingSite, dests []v1alpha1.Destination, policies []v1alpha1.RetentionPolicy, opts RenderOptions) *Runtime {
	s := site.Spec
	r := &Runtime{
		APIVersion: APIVersion,
		Kind:       Kind,
		Site: Site{
			Name:         site.Name,
			Namespace:    site.Namespace,
			Domains:      append([]string(nil), s.Domains...),
			CollectorURL: opts.CollectorURL,
			DashboardURL: opts.DashboardURL,
			KeysDir:      orDefault(opts.KeysDir, KeysDir),
		},
		Tracker: Tracker{
			Path:           orDefault(s.Tracker.Path, "/_ts"),
			FirstPartyHost: s.Tracker.FirstPartyHost,
			Cookieless:     s.Tracker.Cookieless,
			ConsentMode:    orDefault(s.Tracker.Consent.Mode, v1alpha1.ConsentModeNone),
			Autocapture: Autocapture{
				Clicks:        boolOr(s.Tracker.Autocapture.Clicks, true),
				Forms:         boolOr(s.Tracker.Autocapture.Forms, true),
				OutboundLinks: boolOr(s.Tracker.Autocapture.OutboundLinks, true),
				SPA:           boolOr(s.Tracker.Autocapture.SPA, true),
			},
			Pixels: *s.Tracker.Pixels.DeepCopy(),
		},
		Privacy:   Privacy{IPAnonymization: orDefault(s.Privacy.IPAnonymization, v1alpha1.IPAnonymizationTruncate), StitchByEmail: s.Privacy.StitchByEmail},
		Limits:    renderLimits(s.Collector.Limits),
		Dashboard: renderDashboard(s.Dashboard, opts.OIDCDir),
	}
	if opts.Storage != nil {
		r.Storage = *opts.Storage
	} else {
		r.Storage = Storage{
			Driver:  DriverPostgres,
			DSNFile: path.Join(StorageDir, orDefault(s.Storage.Postgres.SecretRef.Key, "uri")),
		}
	}
	for _, g := range s.Goals {
		r.Goals = append(r.Goals, Goal{Name: g.Name, Event: g.Event, Path: g.Path, ValueFrom: g.ValueFrom})
	}
	credRoot := orDefault(opts.CredentialsRoot, "")
	for i := range dests {
		r.Destinations = append(r.Destinations, renderDestination(&dests[i], credRoot))
	}
	sort.Slice(r.Destinations, func(i, j int) bool { return r.Destinations[i].Name < r.Destinations[j].Name })
	for _, p := range policies {
		r.Retention = append(r.Retention, Retention{
			Name:                 p.Name,
			MaxAgeDays:           int32Or(p.Spec.MaxAgeDays, 395),
			AnonymizeIPAfterDays: p.Spec.AnonymizeIPAfterDays,
			DeletePIIAfterDays:   p.Spec.DeletePIIAfterDays,
			Schedule:             orDefault(p.Spec.Schedule, DefaultRetentionSchedule),
			TimeZone:             p.Spec.TimeZone,
			Suspend:              p.Spec.Suspend,
		})
	}
	sort.Slice(r.Retention, func(i, j int) bool { return r.Retention[i].Name < r.Retention[j].Name })
	return r
}

// renderLimits resolves every unset limit to its default.
func renderLimits(l *v1alpha1.CollectorLimits) *Limits {
	out := DefaultLimits()
	if l == nil {
		return &out
	}
	for _, f := range []struct {
		dst *int32
		src *int32
	}{
		{&out.ServerEventsPerSecond, l.ServerEventsPerSecond}, {&out.ServerBurst, l.ServerBurst},
		{&out.BrowserEventsPerSecond, l.BrowserEventsPerSecond}, {&out.BrowserBurst, l.BrowserBurst},
		{&out.IPRequestsPerSecond, l.IPRequestsPerSecond}, {&out.IPBurst, l.IPBurst},
		{&out.BotEventsPerSecond, l.BotEventsPerSecond},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return &out
}

// renderDestination copies a Destination without its secrets. In a pod each
// forwarder sees only its own credentials at CredentialsDir; standalone keeps
// them under credRoot/<name>.
func renderDestination(d *v1alpha1.Destination, credRoot string) Destination {
	spec := d.Spec.DeepCopy()
	dir := CredentialsDir
	if credRoot != "" {
		dir = path.Join(credRoot, d.Name)
	}
	return Destination{
		Name:            d.Name,
		Type:            spec.Type,
		Paused:          spec.Paused,
		CreatedAt:       d.CreationTimestamp.UTC(),
		CredentialsDir:  dir,
		Events:          spec.Events,
		ConsentRequires: spec.Consent.Requires,
		Meta:            spec.Meta,
		GoogleAds:       spec.GoogleAds,
		GoogleAdsAPI:    spec.GoogleAdsAPI,
		GA4:             spec.GA4,
		Pinterest:       spec.Pinterest,
		TikTok:          spec.TikTok,
		Webhook:         spec.Webhook,
		Telegram:        spec.Telegram,
		OneSignal:       spec.OneSignal,
	}
}

// Snippet is the <script> tag a site puts on its pages.
func Snippet(collectorURL, trackerPath, site string) string {
	return fmt.Sprintf(`<script defer src="%s%s/t.js" data-site="%s"></script>`, collectorURL, trackerPath, site)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func boolOr(v *bool, def bool) bool {
	if v == nil {
		return def
	}
	return *v
}

func int32Or(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}
