package controllers

import (
	"testing"

	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"k8s.io/utils/ptr"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// ingressShape is what matters of an Ingress for routing: its class, each
// host's paths and the Service they reach, each TLS host's Secret, and the
// cert-manager annotations.
type ingressShape struct {
	Class       string
	Routes      map[string]map[string]string // host → path → Service
	TLS         map[string]string            // host → Secret
	Annotations map[string]string
}

// shapeOf reads an Ingress as the API server stored it.
func shapeOf(ing *networkingv1.Ingress) ingressShape {
	sh := ingressShape{Class: ptr.Deref(ing.Spec.IngressClassName, ""), Routes: map[string]map[string]string{},
		TLS: map[string]string{}, Annotations: map[string]string{}}
	for _, r := range ing.Spec.Rules {
		sh.Routes[r.Host] = map[string]string{}
		for _, p := range r.HTTP.Paths {
			sh.Routes[r.Host][p.Path] = p.Backend.Service.Name
		}
	}
	for _, t := range ing.Spec.TLS {
		for _, h := range t.Hosts {
			sh.TLS[h] = t.SecretName
		}
	}
	for k, v := range ing.Annotations {
		sh.Annotations[k] = v
	}
	return sh
}

// shapeOfApply reads an Ingress as a builder wants it.
func shapeOfApply(ing *networkingv1ac.IngressApplyConfiguration) ingressShape {
	sh := ingressShape{Class: ptr.Deref(ing.Spec.IngressClassName, ""), Routes: map[string]map[string]string{},
		TLS: map[string]string{}, Annotations: map[string]string{}}
	for _, r := range ing.Spec.Rules {
		sh.Routes[*r.Host] = map[string]string{}
		for _, p := range r.HTTP.Paths {
			sh.Routes[*r.Host][*p.Path] = *p.Backend.Service.Name
		}
	}
	for _, t := range ing.Spec.TLS {
		for _, h := range t.Hosts {
			sh.TLS[h] = *t.SecretName
		}
	}
	for k, v := range ing.Annotations {
		sh.Annotations[k] = v
	}
	return sh
}

// publicSiteCase is one way of publishing a site (or not), with what the
// operator must make of it; the envtest suite runs the same cases.
type publicSiteCase struct {
	name       string
	mutate     func(*v1alpha1.TrackingSite)
	collector  string // status.collectorURL
	snippet    string
	ingresses  map[string]ingressShape // by name; absent ones must not exist
	noPublicOK bool                    // Ready reason NoPublicHost
}

// publicSiteCases covers the three ways (first-party host, dashboard host
// only, neither) and the TLS variants of each, for a site "shop".
func publicSiteCases() []publicSiteCase {
	none := map[string]string{}
	return []publicSiteCase{
		{name: "neither host", collector: "", snippet: "", ingresses: map[string]ingressShape{}, noPublicOK: true},
		{name: "dashboard host without TLS",
			mutate:    func(s *v1alpha1.TrackingSite) { s.Spec.Dashboard.Host = "stats.example.com" },
			collector: "http://stats.example.com",
			snippet:   `<script defer src="http://stats.example.com/_ts/t.js" data-site="shop"></script>`,
			ingresses: map[string]ingressShape{"shop-dashboard": {
				Routes: map[string]map[string]string{"stats.example.com": {"/": "shop-dashboard", "/_ts": "shop-collector"}},
				TLS:    none, Annotations: none}}},
		{name: "dashboard host with TLS from an issuer",
			mutate: func(s *v1alpha1.TrackingSite) {
				s.Spec.Dashboard.Host = "stats.example.com"
				s.Spec.Dashboard.IngressClassName = ptr.To("nginx")
				s.Spec.Dashboard.TLS = &v1alpha1.IngressTLS{ClusterIssuer: "letsencrypt"}
				s.Spec.Tracker.Path = "/stats"
			},
			collector: "https://stats.example.com",
			snippet:   `<script defer src="https://stats.example.com/stats/t.js" data-site="shop"></script>`,
			ingresses: map[string]ingressShape{"shop-dashboard": {Class: "nginx",
				Routes:      map[string]map[string]string{"stats.example.com": {"/": "shop-dashboard", "/stats": "shop-collector"}},
				TLS:         map[string]string{"stats.example.com": "shop-dashboard-tls"},
				Annotations: map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}}}},
		{name: "first-party host without TLS",
			mutate:    func(s *v1alpha1.TrackingSite) { s.Spec.Tracker.FirstPartyHost = "shop.example.com" },
			collector: "http://shop.example.com",
			snippet:   `<script defer src="http://shop.example.com/_ts/t.js" data-site="shop"></script>`,
			ingresses: map[string]ingressShape{"shop-collector": {
				Routes: map[string]map[string]string{"shop.example.com": {"/_ts": "shop-collector"}},
				TLS:    none, Annotations: none}}},
		{name: "first-party host sharing the site's own certificate, dashboard from an issuer",
			mutate: func(s *v1alpha1.TrackingSite) {
				s.Spec.Tracker.FirstPartyHost = "shop.example.com"
				s.Spec.Tracker.TLS = &v1alpha1.IngressTLS{SecretName: "shop-example-com-tls"}
				s.Spec.Tracker.IngressClassName = ptr.To("traefik")
				s.Spec.Dashboard.Host = "stats.example.com"
				s.Spec.Dashboard.IngressClassName = ptr.To("nginx")
				s.Spec.Dashboard.TLS = &v1alpha1.IngressTLS{Issuer: "le"}
			},
			collector: "https://shop.example.com",
			snippet:   `<script defer src="https://shop.example.com/_ts/t.js" data-site="shop"></script>`,
			ingresses: map[string]ingressShape{
				"shop-collector": {Class: "traefik",
					Routes: map[string]map[string]string{"shop.example.com": {"/_ts": "shop-collector"}},
					TLS:    map[string]string{"shop.example.com": "shop-example-com-tls"}, Annotations: none},
				"shop-dashboard": {Class: "nginx",
					Routes:      map[string]map[string]string{"stats.example.com": {"/": "shop-dashboard"}},
					TLS:         map[string]string{"stats.example.com": "shop-dashboard-tls"},
					Annotations: map[string]string{"cert-manager.io/issuer": "le"}}}},
		{name: "first-party subdomain with a certificate of its own, no dashboard TLS",
			mutate: func(s *v1alpha1.TrackingSite) {
				s.Spec.Domains = []string{"example.com"}
				s.Spec.Tracker.FirstPartyHost = "t.example.com"
				s.Spec.Tracker.TLS = &v1alpha1.IngressTLS{ClusterIssuer: "letsencrypt"}
				s.Spec.Dashboard.Host = "stats.example.com"
				s.Spec.Dashboard.IngressClassName = ptr.To("nginx")
			},
			collector: "https://t.example.com",
			snippet:   `<script defer src="https://t.example.com/_ts/t.js" data-site="shop"></script>`,
			ingresses: map[string]ingressShape{
				"shop-collector": {Class: "nginx", // the dashboard's class when tracker sets none
					Routes:      map[string]map[string]string{"t.example.com": {"/_ts": "shop-collector"}},
					TLS:         map[string]string{"t.example.com": "shop-collector-tls"},
					Annotations: map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}},
				"shop-dashboard": {Class: "nginx",
					Routes: map[string]map[string]string{"stats.example.com": {"/": "shop-dashboard"}},
					TLS:    none, Annotations: none}}},
	}
}

func TestPublicCollectorURLSnippetAndIngresses(t *testing.T) {
	for _, tc := range publicSiteCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := testSite(tc.mutate)
			if got := collectorURL(s); got != tc.collector {
				t.Errorf("collectorURL = %q, want %q", got, tc.collector)
			}
			if got := snippet(s); got != tc.snippet {
				t.Errorf("snippet = %q, want %q", got, tc.snippet)
			}
			got := map[string]ingressShape{}
			in := siteInputs{site: s}
			if wantsCollectorIngress(s) {
				got["shop-collector"] = shapeOfApply(buildCollectorIngress(in))
			}
			if wantsDashboardIngress(s) {
				got["shop-dashboard"] = shapeOfApply(buildDashboardIngress(in))
			}
			NewWithT(t).Expect(got).To(Equal(tc.ingresses), "Ingresses by name")
		})
	}
}

func TestDashboardURL(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*v1alpha1.TrackingSite)
		want   string
	}{
		{"in-cluster only", nil, "http://shop-dashboard.web.svc"},
		{"host without TLS", func(s *v1alpha1.TrackingSite) { s.Spec.Dashboard.Host = "stats.example.com" }, "http://stats.example.com"},
		{"host with TLS", func(s *v1alpha1.TrackingSite) {
			s.Spec.Dashboard.Host = "stats.example.com"
			s.Spec.Dashboard.TLS = &v1alpha1.IngressTLS{SecretName: "x"}
		}, "https://stats.example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := dashboardURL(testSite(tc.mutate)); got != tc.want {
				t.Errorf("dashboardURL = %q, want %q", got, tc.want)
			}
		})
	}
}
