package config

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

func sampleSite() *v1alpha1.TrackingSite {
	return &v1alpha1.TrackingSite{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "web"},
		Spec: v1alpha1.TrackingSiteSpec{
			Domains: []string{"shop.example.com", "www.shop.example.com"},
			Storage: v1alpha1.StorageSpec{Postgres: v1alpha1.PostgresStorage{SecretRef: v1alpha1.SecretKeyReference{Name: "pg", Key: "dsn"}}},
			Tracker: v1alpha1.TrackerSpec{
				Path: "/stats", Cookieless: true,
				Consent:     v1alpha1.ConsentSpec{Mode: v1alpha1.ConsentModeOptIn},
				Autocapture: v1alpha1.AutocaptureSpec{Forms: ptr.To(false)},
				Pixels:      v1alpha1.PixelsSpec{Meta: &v1alpha1.MetaPixel{PixelID: "123456"}, GA4: &v1alpha1.GA4Pixel{MeasurementID: "G-ABC123"}},
			},
			Privacy: v1alpha1.PrivacySpec{IPAnonymization: v1alpha1.IPAnonymizationFull},
			Goals:   []v1alpha1.Goal{{Name: "purchase", Event: "purchase", ValueFrom: "value"}, {Name: "signup", Path: "/welcome*"}},
			Collector: v1alpha1.CollectorSpec{Limits: &v1alpha1.CollectorLimits{
				ServerEventsPerSecond: ptr.To[int32](0), IPRequestsPerSecond: ptr.To[int32](5), BotEventsPerSecond: ptr.To[int32](200),
			}},
		},
	}
}

func TestRenderRoundTrip(t *testing.T) {
	dests := []v1alpha1.Destination{
		{ObjectMeta: metav1.ObjectMeta{Name: "z-ga4"}, Spec: v1alpha1.DestinationSpec{
			Type: v1alpha1.DestinationGA4, GA4: &v1alpha1.GA4Destination{MeasurementID: "G-ABC123", Endpoint: v1alpha1.Endpoint{Endpoint: "http://127.0.0.1:9"}},
			Consent: v1alpha1.DestinationConsent{Requires: []string{"analytics_storage"}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "a-meta"}, Spec: v1alpha1.DestinationSpec{
			Type: v1alpha1.DestinationMeta, Meta: &v1alpha1.MetaDestination{PixelID: "123456", TestEventCode: "TEST1"},
			Events: []v1alpha1.EventMapping{{Match: "purchase", SendAs: "Purchase"}}, Paused: true,
		}},
	}
	policies := []v1alpha1.RetentionPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "daily"}, Spec: v1alpha1.RetentionPolicySpec{
		MaxAgeDays: 30, AnonymizeIPAfterDays: ptr.To[int32](7),
	}}}
	r := Render(sampleSite(), dests, policies, RenderOptions{CollectorURL: "https://shop.example.com"})

	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("parsing what Render produced: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(r, back) {
		t.Errorf("round trip changed the config:\nbefore %+v\nafter  %+v", r, back)
	}
	again, _ := Render(sampleSite(), dests, policies, RenderOptions{CollectorURL: "https://shop.example.com"}).Marshal()
	if string(again) != string(data) {
		t.Error("rendering is not deterministic")
	}

	// Resolved values: defaults filled in, nothing left for the runtime to guess.
	checks := map[string]bool{
		"storage through the mounted Secret key": back.Storage.Driver == DriverPostgres && back.Storage.DSNFile == "/etc/trackstack/storage/dsn",
		"autocapture resolved":                   back.Tracker.Autocapture == Autocapture{Clicks: true, Forms: false, OutboundLinks: true, SPA: true},
		"destinations sorted by name":            back.Destinations[0].Name == "a-meta" && back.Destinations[1].Name == "z-ga4",
		"credentials at the pod's mount":         back.Destinations[0].CredentialsDir == CredentialsDir,
		"retention resolved":                     back.Retention[0].MaxAgeDays == 30 && *back.Retention[0].AnonymizeIPAfterDays == 7,
		"keys dir":                               back.Site.KeysDir == KeysDir,
		"limits: set values kept, 0 kept as unlimited, the rest defaulted": *back.Limits == Limits{
			ServerEventsPerSecond: 0, ServerBurst: 100_000, BrowserEventsPerSecond: 100_000, BrowserBurst: 200_000,
			IPRequestsPerSecond: 5, IPBurst: 60, BotEventsPerSecond: 200,
		},
		"consent": back.Tracker.ConsentMode == "optIn" && back.Destinations[1].ConsentRequires[0] == "analytics_storage",
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s: wrong in\n%s", what, data)
		}
	}
}

func TestRenderDefaults(t *testing.T) {
	site := &v1alpha1.TrackingSite{ObjectMeta: metav1.ObjectMeta{Name: "bare"}, Spec: v1alpha1.TrackingSiteSpec{Domains: []string{"a.example"}}}
	r := Render(site, nil, []v1alpha1.RetentionPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "p"}}}, RenderOptions{
		Storage: &Storage{Driver: DriverSQLite, SQLitePath: "/data/ts.db"}, KeysDir: "/data/keys", CredentialsRoot: "/data/credentials",
	})
	if r.Tracker.Path != "/_ts" || r.Tracker.ConsentMode != "none" || r.Privacy.IPAnonymization != "truncate" {
		t.Errorf("defaults not resolved: %+v %+v", r.Tracker, r.Privacy)
	}
	if *r.Limits != DefaultLimits() || r.EffectiveLimits() != DefaultLimits() {
		t.Errorf("limits not defaulted: %+v", *r.Limits)
	}
	if DefaultLimits().ServerEventsPerSecond < 50_000 {
		t.Errorf("the server API's default limit %d is below the collector's design load of 50,000 events/s", DefaultLimits().ServerEventsPerSecond)
	}
	if r.Retention[0].MaxAgeDays != 395 {
		t.Errorf("maxAgeDays default = %d", r.Retention[0].MaxAgeDays)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("standalone config invalid: %v", err)
	}
	d := Render(site, []v1alpha1.Destination{{ObjectMeta: metav1.ObjectMeta{Name: "hook"}, Spec: v1alpha1.DestinationSpec{Type: "webhook"}}}, nil,
		RenderOptions{CredentialsRoot: "/data/credentials"})
	if d.Destinations[0].CredentialsDir != "/data/credentials/hook" {
		t.Errorf("standalone credentials dir = %q", d.Destinations[0].CredentialsDir)
	}
}

func TestParseRejects(t *testing.T) {
	good, _ := Render(sampleSite(), nil, nil, RenderOptions{}).Marshal()
	cases := []struct {
		name, yaml, want string
	}{
		{"other version", strings.Replace(string(good), APIVersion, "runtime.trackstack.dev/v9", 1), "this runtime reads"},
		{"unknown field", string(good) + "surprise: true\n", "unknown field"},
		{"no site name", strings.Replace(string(good), "name: shop", "name: \"\"", 1), "site.name is empty"},
		{"bad driver", strings.Replace(string(good), "driver: postgres", "driver: mongo", 1), `storage.driver "mongo"`},
		{"not yaml", "{", "parsing runtime config"},
		{"negative limit", strings.Replace(string(good), "ipBurst: 60", "ipBurst: -1", 1), "limits.ipBurst is -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
