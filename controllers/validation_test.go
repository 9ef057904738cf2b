package controllers

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// TestInvalidSpecsAreRejected checks that the API server itself refuses bad
// specs, with the schema or CEL message a person can act on.
func TestInvalidSpecsAreRejected(t *testing.T) {
	ns := newNamespace(t, false)
	site := func(mutate func(*v1alpha1.TrackingSite)) client.Object {
		s := &v1alpha1.TrackingSite{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: ns}, Spec: siteSpec()}
		mutate(s)
		return s
	}
	dest := func(mutate func(*v1alpha1.Destination)) client.Object {
		d := metaDestination(ns, "bad", "shop", "meta-capi")
		mutate(d)
		return d
	}
	policy := func(mutate func(*v1alpha1.RetentionPolicy)) client.Object {
		p := retentionPolicy(ns, "bad", "shop")
		mutate(p)
		return p
	}
	cases := []struct {
		name string
		obj  client.Object
		want string
	}{
		{"domain with scheme", site(func(s *v1alpha1.TrackingSite) { s.Spec.Domains = []string{"https://shop.example.com"} }),
			"each domain must be a lower-case host name"},
		{"no domains", site(func(s *v1alpha1.TrackingSite) { s.Spec.Domains = nil }),
			"spec.domains: Required value"},
		{"OIDC allowing nobody", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Dashboard.OIDC = &v1alpha1.DashboardOIDC{IssuerURL: "https://accounts.example.com", ClientID: "dash",
				ClientSecretRef: v1alpha1.OIDCClientSecretReference{Name: "oidc"}}
		}), "oidc needs at least one of allowedEmails, allowedDomains, allowedGroups"},
		{"OIDC issuer over plain http", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Dashboard.OIDC = &v1alpha1.DashboardOIDC{IssuerURL: "http://accounts.example.com", ClientID: "dash",
				ClientSecretRef: v1alpha1.OIDCClientSecretReference{Name: "oidc"}, AllowedDomains: []string{"example.com"}}
		}), "spec.dashboard.oidc.issuerURL"},
		{"OIDC domain with a scheme", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Dashboard.OIDC = &v1alpha1.DashboardOIDC{IssuerURL: "https://accounts.example.com", ClientID: "dash",
				ClientSecretRef: v1alpha1.OIDCClientSecretReference{Name: "oidc"}, AllowedDomains: []string{"https://example.com"}}
		}), "spec.dashboard.oidc.allowedDomains[0]"},
		{"tls without host", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Dashboard.TLS = &v1alpha1.IngressTLS{SecretName: "tls"}
		}), "dashboard.tls needs dashboard.host"},
		{"two issuers", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Dashboard.Host = "stats.example.com"
			s.Spec.Dashboard.TLS = &v1alpha1.IngressTLS{ClusterIssuer: "a", Issuer: "b"}
		}), "set at most one of tls.clusterIssuer and tls.issuer"},
		{"first-party TLS without the host", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Tracker.TLS = &v1alpha1.IngressTLS{SecretName: "shop-tls"}
		}), "tracker.tls needs tracker.firstPartyHost"},
		{"first-party ingress class without the host", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Tracker.IngressClassName = ptr.To("nginx")
		}), "tracker.ingressClassName needs tracker.firstPartyHost"},
		{"first-party TLS naming no certificate", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Tracker.FirstPartyHost = "shop.example.com"
			s.Spec.Tracker.TLS = &v1alpha1.IngressTLS{}
		}), "tls needs secretName, clusterIssuer or issuer"},
		{"first-party TLS with two issuers", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Tracker.FirstPartyHost = "shop.example.com"
			s.Spec.Tracker.TLS = &v1alpha1.IngressTLS{ClusterIssuer: "a", Issuer: "b"}
		}), "set at most one of tls.clusterIssuer and tls.issuer"},
		{"first-party host off-site", site(func(s *v1alpha1.TrackingSite) { s.Spec.Tracker.FirstPartyHost = "evil.example.net" }),
			"tracker.firstPartyHost must be one of spec.domains"},
		{"tracker path without slash", site(func(s *v1alpha1.TrackingSite) { s.Spec.Tracker.Path = "ts" }),
			"spec.tracker.path"},
		{"unknown consent mode", site(func(s *v1alpha1.TrackingSite) { s.Spec.Tracker.Consent.Mode = "maybe" }),
			`Unsupported value: "maybe"`},
		{"goal with event and path", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Goals = []v1alpha1.Goal{{Name: "g", Event: "purchase", Path: "/thanks"}}
		}), "a goal sets exactly one of event or path"},
		{"autoscaling min over max", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Collector.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](5), MaxReplicas: 2}
		}), "autoscaling.minReplicas must not exceed maxReplicas"},
		{"trusted proxy not a CIDR", site(func(s *v1alpha1.TrackingSite) { s.Spec.Collector.TrustedProxies = []string{"ingress-nginx"} }),
			"each trusted proxy must be a CIDR"},
		{"negative rate limit", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Collector.Limits = &v1alpha1.CollectorLimits{ServerEventsPerSecond: ptr.To[int32](-1)}
		}), "spec.collector.limits.serverEventsPerSecond: Invalid value: -1: spec.collector.limits.serverEventsPerSecond in body should be greater than or equal to 0"},
		{"negative burst", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Collector.Limits = &v1alpha1.CollectorLimits{IPBurst: ptr.To[int32](-5)}
		}), "spec.collector.limits.ipBurst in body should be greater than or equal to 0"},
		{"rate limit out of range", site(func(s *v1alpha1.TrackingSite) {
			s.Spec.Collector.Limits = &v1alpha1.CollectorLimits{BotEventsPerSecond: ptr.To[int32](2_000_000)}
		}), "spec.collector.limits.botEventsPerSecond in body should be less than or equal to 1000000"},
		{"site name too long", site(func(s *v1alpha1.TrackingSite) { s.Name = "a-very-long-site-name-that-goes-past-thirty" }),
			"a TrackingSite name is at most 30 characters"},
		{"destination block mismatch", dest(func(d *v1alpha1.Destination) {
			d.Spec.Type = v1alpha1.DestinationGA4
		}), "spec.ga4 is required when type is ga4"},
		{"destination extra block", dest(func(d *v1alpha1.Destination) {
			d.Spec.GA4 = &v1alpha1.GA4Destination{MeasurementID: "G-ABCDEF"}
		}), "spec.ga4 is required when type is ga4, and allowed only then"},
		{"destination unknown type", dest(func(d *v1alpha1.Destination) { d.Spec.Type = "myspace" }),
			`spec.type: Unsupported value: "myspace"`},
		{"meta pixel not numeric", dest(func(d *v1alpha1.Destination) { d.Spec.Meta.PixelID = "abc" }),
			"spec.meta.pixelID"},
		{"unknown consent purpose", dest(func(d *v1alpha1.Destination) { d.Spec.Consent.Requires = []string{"ads"} }),
			`Unsupported value: "ads"`},
		{"cron with six fields", policy(func(p *v1alpha1.RetentionPolicy) { p.Spec.Schedule = "0 17 3 * * *" }),
			"schedule must be five cron fields"},
		{"anonymize after max age", policy(func(p *v1alpha1.RetentionPolicy) {
			p.Spec.MaxAgeDays = 30
			p.Spec.AnonymizeIPAfterDays = ptr.To[int32](60)
		}), "anonymizeIPAfterDays must not exceed maxAgeDays"},
		{"max age zero", policy(func(p *v1alpha1.RetentionPolicy) { p.Spec.MaxAgeDays = -1 }),
			"spec.maxAgeDays"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := k8sClient.Create(context.Background(), tc.obj)
			g := NewWithT(t)
			g.Expect(err).To(HaveOccurred(), "the API server accepted an invalid object")
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// TestSiteRefIsImmutable checks the CEL transition rule on siteRef.
func TestSiteRefIsImmutable(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, false)
	d := metaDestination(ns, "meta", "shop", "meta-capi")
	g.Expect(k8sClient.Create(ctx, d)).To(Succeed())
	dp := client.MergeFrom(d.DeepCopy())
	d.Spec.SiteRef.Name = "other"
	err := k8sClient.Patch(ctx, d, dp)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("siteRef is immutable"))

	p := retentionPolicy(ns, "daily", "shop")
	g.Expect(k8sClient.Create(ctx, p)).To(Succeed())
	pp := client.MergeFrom(p.DeepCopy())
	p.Spec.SiteRef.Name = "other"
	err = k8sClient.Patch(ctx, p, pp)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("siteRef is immutable"))
}

// TestSchemaDefaults checks defaults land in the stored object, and that a
// new object reads as "in progress" (observedGeneration -1). The typed
// client sends a zero status, which the status subresource drops; Create
// fills the objects in with the server's answer, the object as stored
// before the operator can have written to it.
func TestSchemaDefaults(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, false)
	s := &v1alpha1.TrackingSite{ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: ns}, Spec: siteSpec()}
	g.Expect(k8sClient.Create(ctx, s)).To(Succeed())
	g.Expect(s.Spec.Tracker.Path).To(Equal("/_ts"))
	g.Expect(s.Spec.Tracker.Consent.Mode).To(Equal("none"))
	g.Expect(*s.Spec.Tracker.Autocapture.Clicks).To(BeTrue())
	g.Expect(s.Spec.Privacy.IPAnonymization).To(Equal("truncate"))
	g.Expect(*s.Spec.Collector.Replicas).To(Equal(int32(2)))
	g.Expect(s.Spec.DeletionPolicy).To(Equal("Retain"))
	g.Expect(s.Spec.Storage.Postgres.SecretRef.Key).To(Equal("uri"))
	p := retentionPolicy(ns, "defaults", "defaults")
	p.Spec.Schedule = ""
	p.Spec.MaxAgeDays = 0
	g.Expect(k8sClient.Create(ctx, p)).To(Succeed())
	g.Expect(p.Spec.Schedule).To(Equal("17 3 * * *"))
	g.Expect(p.Spec.MaxAgeDays).To(Equal(int32(395)))
	d := metaDestination(ns, "defaults", "defaults", "meta-capi")
	g.Expect(k8sClient.Create(ctx, d)).To(Succeed())

	for _, obj := range []trackstackObject{s, p, d} {
		st := obj.GetObjectStatus()
		g.Expect(st.ObservedGeneration).To(Equal(int64(-1)), "%T: a new object's observedGeneration", obj)
		g.Expect(st.Conditions).To(BeEmpty(), "%T: a new object's conditions", obj)
	}
}
