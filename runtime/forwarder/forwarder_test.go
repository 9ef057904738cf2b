package forwarder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/store/sqlite"
)

// destinations has one Destination of every type, as the operator renders them.
func destinations() []config.Destination {
	g := &v1alpha1.GoogleAdsDestination{CustomerID: "1234567890", ConversionActionID: "987"}
	return []config.Destination{
		{Name: "meta", Type: v1alpha1.DestinationMeta, Meta: &v1alpha1.MetaDestination{PixelID: "1234567890"}},
		{Name: "gads", Type: v1alpha1.DestinationGoogleAds, GoogleAds: g},
		{Name: "gadsapi", Type: v1alpha1.DestinationGoogleAdsAPI, GoogleAdsAPI: g},
		{Name: "ga4", Type: v1alpha1.DestinationGA4, GA4: &v1alpha1.GA4Destination{MeasurementID: "G-ABC123"}},
		{Name: "pin", Type: v1alpha1.DestinationPinterest, Pinterest: &v1alpha1.PinterestDestination{AdAccountID: "549755885175"}},
		{Name: "tt", Type: v1alpha1.DestinationTikTok, TikTok: &v1alpha1.TikTokDestination{PixelCode: "C4ABCDEFGHIJ"}},
		{Name: "hook", Type: v1alpha1.DestinationWebhook, Webhook: &v1alpha1.WebhookDestination{URL: "https://hooks.example.com/x"}},
		{Name: "tg", Type: v1alpha1.DestinationTelegram, Telegram: &v1alpha1.TelegramDestination{ChatID: "-1001234567890"}},
		{Name: "push", Type: v1alpha1.DestinationOneSignal, OneSignal: &v1alpha1.OneSignalDestination{AppID: "5eb5a37e-b458-11e3-ac11-000c2940e62c"}},
	}
}

// siteConfig writes each destination's credentials and the site's keys
// under dir, as the operator mounts them.
func siteConfig(t *testing.T, dir string, withSealingKey bool) *config.Runtime {
	t.Helper()
	rt := &config.Runtime{Site: config.Site{Name: "shop", KeysDir: filepath.Join(dir, "keys")}}
	write := func(path, v string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if withSealingKey {
		write(filepath.Join(rt.Site.KeysDir, config.KeyIPSealing), strings.Repeat("ab", 32))
	}
	for _, d := range destinations() {
		d.CredentialsDir = filepath.Join(dir, "credentials", d.Name)
		for _, k := range v1alpha1.CredentialKeys[d.Type] {
			write(filepath.Join(d.CredentialsDir, k), "secret-"+k)
		}
		rt.Destinations = append(rt.Destinations, d)
	}
	return rt
}

// TestEngineForEveryType: every Destination type the API admits builds an
// engine from its mounted credentials, with a mapping that takes purchases.
func TestEngineForEveryType(t *testing.T) {
	rt := siteConfig(t, t.TempDir(), true)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if len(rt.Destinations) != len(v1alpha1.CredentialKeys) {
		t.Fatalf("the test covers %d types, the API has %d", len(rt.Destinations), len(v1alpha1.CredentialKeys))
	}
	for i := range rt.Destinations {
		d := &rt.Destinations[i]
		t.Run(d.Type, func(t *testing.T) {
			if _, err := Engine(Options{Config: rt, Store: st}, d); err != nil {
				t.Fatalf("Engine: %v", err)
			}
		})
	}
}

// TestEngineSetupErrors: what a person must fix is named, and no secret
// appears in the message.
func TestEngineSetupErrors(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	dir := t.TempDir()
	rt := siteConfig(t, dir, false)
	meta, _ := rt.Destination("meta")
	if _, err := Engine(Options{Config: rt, Store: st}, meta); err == nil || !strings.Contains(err.Error(), config.KeyIPSealing) {
		t.Errorf("meta without the site's sealing key: %v, want an error naming %s", err, config.KeyIPSealing)
	}
	ga4, _ := rt.Destination("ga4")
	if err := os.Remove(filepath.Join(ga4.CredentialsDir, "apiSecret")); err != nil {
		t.Fatal(err)
	}
	if _, err := Engine(Options{Config: rt, Store: st}, ga4); err == nil || !strings.Contains(err.Error(), `"apiSecret"`) {
		t.Errorf("ga4 without apiSecret: %v, want an error naming the key", err)
	}
	gads, _ := rt.Destination("gads")
	gads.Events = []v1alpha1.EventMapping{{Match: "purchase", SendAs: "x", MinValue: "lots"}}
	if _, err := Engine(Options{Config: rt, Store: st}, gads); err == nil || strings.Contains(err.Error(), "secret-") {
		t.Errorf("bad minValue: %v, want an error without secrets", err)
	}
}

// TestStartFromCreationOrBackfill: a new cursor starts at the Destination's
// creation time (now without one); a backfill moves it back.
func TestStartFromCreationOrBackfill(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, ago := range []time.Duration{2 * time.Hour, 30 * time.Minute} {
		e := event.Event{Site: "shop", EventID: ago.String(), Type: event.TypeConversion, Name: "purchase",
			Source: event.SourceServer, Timestamp: now.Add(-ago), ReceivedAt: now.Add(-ago)}
		if _, err := st.Insert(t.Context(), []event.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	feed := func() []string {
		t.Helper()
		evs, _, err := st.Feed(t.Context(), "shop", "meta", 10)
		if err != nil {
			t.Fatal(err)
		}
		var at []string
		for _, e := range evs {
			at = append(at, now.Sub(e.ReceivedAt).Round(time.Minute).String())
		}
		return at
	}
	d := &config.Destination{Name: "meta", CreatedAt: now.Add(-time.Hour)}
	if created, err := Start(t.Context(), st, "shop", d, time.Time{}, now); err != nil || !created {
		t.Fatalf("first start: %v, %v", created, err)
	}
	if got := strings.Join(feed(), ","); got != "30m0s" {
		t.Fatalf("a new destination created an hour ago is fed events received %s ago, want only 30m0s", got)
	}
	if created, err := Start(t.Context(), st, "shop", d, time.Time{}, now); err != nil || created {
		t.Fatalf("second start created a cursor again: %v, %v", created, err)
	}
	if _, err := Start(t.Context(), st, "shop", d, now.Add(-48*time.Hour), now); err != nil {
		t.Fatalf("backfill: %v", err)
	}
	if got := strings.Join(feed(), ","); got != "2h0m0s,30m0s" {
		t.Fatalf("after a backfill of 48h the feed has events received %s ago, want 2h0m0s,30m0s", got)
	}
}
