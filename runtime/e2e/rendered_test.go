package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/controllers"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/retention"
	"github.com/trackstack/trackstack/runtime/store/postgres"
)

// renderedSite is a site with a dashboard host, a Destination of every
// type and a RetentionPolicy, as a platform team would apply them.
func renderedSite() (*v1alpha1.TrackingSite, []v1alpha1.Destination, []v1alpha1.RetentionPolicy) {
	site := &v1alpha1.TrackingSite{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "shops"},
		Spec: v1alpha1.TrackingSiteSpec{
			Domains:   []string{"shop.example.com"},
			Storage:   v1alpha1.StorageSpec{Postgres: v1alpha1.PostgresStorage{SecretRef: v1alpha1.SecretKeyReference{Name: "pg", Key: "uri"}}},
			Dashboard: v1alpha1.DashboardSpec{Host: "stats.example.com"},
		},
	}
	g := &v1alpha1.GoogleAdsDestination{CustomerID: "1234567890", ConversionActionID: "987"}
	var dests []v1alpha1.Destination
	for _, spec := range []v1alpha1.DestinationSpec{
		{Type: v1alpha1.DestinationMeta, Meta: &v1alpha1.MetaDestination{PixelID: "1234567890"}},
		{Type: v1alpha1.DestinationGoogleAds, GoogleAds: g},
		{Type: v1alpha1.DestinationGoogleAdsAPI, GoogleAdsAPI: g},
		{Type: v1alpha1.DestinationGA4, GA4: &v1alpha1.GA4Destination{MeasurementID: "G-ABC123"}},
		{Type: v1alpha1.DestinationPinterest, Pinterest: &v1alpha1.PinterestDestination{AdAccountID: "549755885175"}},
		{Type: v1alpha1.DestinationTikTok, TikTok: &v1alpha1.TikTokDestination{PixelCode: "C4ABC"}},
		{Type: v1alpha1.DestinationWebhook, Webhook: &v1alpha1.WebhookDestination{URL: "https://hooks.example.com/sale"}},
		{Type: v1alpha1.DestinationTelegram, Telegram: &v1alpha1.TelegramDestination{ChatID: "-100123"}},
		{Type: v1alpha1.DestinationOneSignal, OneSignal: &v1alpha1.OneSignalDestination{AppID: "app-1"}},
	} {
		spec.SiteRef = v1alpha1.LocalObjectReference{Name: site.Name}
		spec.CredentialsSecretRef = v1alpha1.LocalObjectReference{Name: strings.ToLower(spec.Type) + "-creds"}
		dests = append(dests, v1alpha1.Destination{ObjectMeta: metav1.ObjectMeta{Name: strings.ToLower(spec.Type), Namespace: site.Namespace}, Spec: spec})
	}
	days := int32(7)
	policies := []v1alpha1.RetentionPolicy{{
		ObjectMeta: metav1.ObjectMeta{Name: "daily", Namespace: site.Namespace},
		Spec:       v1alpha1.RetentionPolicySpec{SiteRef: v1alpha1.LocalObjectReference{Name: site.Name}, MaxAgeDays: 30, AnonymizeIPAfterDays: &days},
	}}
	return site, dests, policies
}

// renderedPod is one container the operator renders, with what its pod mounts.
type renderedPod struct {
	name    string
	pod     *corev1ac.PodSpecApplyConfiguration
	objects map[string]map[string][]byte
}

// renderedPods renders every pod of renderedSite with the operator's own
// builders: collector, dashboard, a forwarder per Destination type, the
// retention CronJob's Job and the Job that purges a deleted site.
func renderedPods(t *testing.T, dsn string) []renderedPod {
	t.Helper()
	site, dests, policies := renderedSite()
	cmData, keys, err := controllers.RenderSiteObjects(site, dests, policies)
	if err != nil {
		t.Fatal(err)
	}
	objects := siteObjects(site, cmData, keys, dsn)
	objects[controllers.PurgeConfigMapName(site.Name)] = objects[controllers.RuntimeConfigMapName(site.Name)]
	for _, d := range dests {
		creds := map[string][]byte{}
		for _, k := range v1alpha1.CredentialKeys[d.Spec.Type] {
			creds[k] = []byte("secret-" + k)
		}
		objects[d.Spec.CredentialsSecretRef.Name] = creds
	}
	opts := controllers.Options{RuntimeImage: "trackstack:e2e"}
	pods := []renderedPod{
		{"collector", controllers.CollectorPodSpec(site, opts), objects},
		{"dashboard", controllers.DashboardPodSpec(site, opts), objects},
		{"retention", controllers.RetentionPodSpec(&policies[0], site, opts), objects},
		{"purge", controllers.PurgePodSpec(site, opts), objects},
	}
	for i := range dests {
		pods = append(pods, renderedPod{"forwarder " + dests[i].Spec.Type, controllers.ForwarderPodSpec(&dests[i], site, opts), objects})
	}
	return pods
}

// TestRenderedContainersRun runs the exact command line of every container
// the operator renders against the built binary, with --help appended: an
// unknown subcommand, or a flag the binary does not have, fails it.
func TestRenderedContainersRun(t *testing.T) {
	bin := trackstackBin.get(t)
	for _, p := range renderedPods(t, "postgres://unused") {
		t.Run(p.name, func(t *testing.T) {
			cmd := podCommand(t, bin, p.pod, p.objects, "--help")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			sub := p.pod.Containers[0].Args[0]
			if err != nil || !strings.Contains(out.String(), "Usage: trackstack "+sub) {
				t.Errorf("%v: %v\n%s", cmd.Args, err, out.String())
			}
		})
	}
}

// TestRetentionFromRenderedCronJob runs the retention Job the operator
// renders, unchanged, against PostgreSQL: it applies the rendered policy
// (30 days; IPs after 7) and prints its summary.
func TestRetentionFromRenderedCronJob(t *testing.T) {
	bin := trackstackBin.get(t)
	dsn := pg.NewDatabase(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var in []event.Event
	for i, age := range []int{40, 10, 0} {
		at := now.AddDate(0, 0, -age).Add(-time.Minute)
		in = append(in, event.Event{Site: "shop", EventID: fmt.Sprintf("e%d", i), Type: event.TypePageview, Source: event.SourceBrowser,
			IP: "203.0.113.77", Timestamp: at, ReceivedAt: at})
	}
	if _, err := st.Insert(ctx, in); err != nil {
		t.Fatal(err)
	}
	var job renderedPod
	for _, p := range renderedPods(t, dsn) {
		if p.name == "retention" {
			job = p
		}
	}
	cmd := podCommand(t, bin, job.pod, job.objects)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.String())
	}
	var sum retention.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", stdout.String(), err)
	}
	if sum.Policy != "daily" || sum.Site != "shop" || sum.Changed.EventsDeleted != 1 || sum.Changed.IPsAnonymized != 1 {
		t.Errorf("summary %+v, want the 40-day-old event deleted and the 10-day-old one's IP anonymized", sum)
	}
	left, err := st.Recent(ctx, "shop", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].IP != "203.0.113.77" || left[1].IP != "203.0.113.0" {
		t.Errorf("events left %+v", left)
	}
	if run, ok, err := st.LastRetentionRun(ctx, "shop"); err != nil || !ok || run.Policy != "daily" {
		t.Errorf("the run was not recorded: %+v %v %v", run, ok, err)
	}
}
