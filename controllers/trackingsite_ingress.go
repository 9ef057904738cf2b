package controllers

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// Where browsers reach a site's collector, in order:
//
//   - tracker.firstPartyHost: the Ingress <site>-collector routes
//     tracker.path on that host to the collector, with tracker.tls;
//   - else dashboard.host: the Ingress <site>-dashboard routes tracker.path
//     on the dashboard's host to the collector too, with dashboard.tls;
//   - else nowhere: no collectorURL, no snippet, Ready reason NoPublicHost.
//
// The first-party route has an Ingress of its own so that its certificate
// can come from another issuer than the dashboard's: cert-manager applies
// one issuer annotation to every certificate of an Ingress.

// publicCollectorHost is the host browsers reach the collector on and
// whether the Ingress serving it there has TLS for it; "" when none.
func publicCollectorHost(s *v1alpha1.TrackingSite) (host string, tls bool) {
	switch t, d := s.Spec.Tracker, s.Spec.Dashboard; {
	case t.FirstPartyHost != "":
		return t.FirstPartyHost, t.TLS != nil
	case d.Host != "":
		return d.Host, d.TLS != nil
	}
	return "", false
}

// collectorURL is the public base URL of the collector, or "" when browsers
// cannot reach it.
func collectorURL(s *v1alpha1.TrackingSite) string {
	host, tls := publicCollectorHost(s)
	if host == "" {
		return ""
	}
	return schemeFor(tls) + "://" + host
}

// inClusterCollectorURL is the collector's Service, which backends in the
// cluster can post server-side events to.
func inClusterCollectorURL(s *v1alpha1.TrackingSite) string {
	return fmt.Sprintf("http://%s.%s.svc", collectorName(s.Name), s.Namespace)
}

// dashboardURL is where the dashboard is served.
func dashboardURL(s *v1alpha1.TrackingSite) string {
	if d := s.Spec.Dashboard; d.Host != "" {
		return schemeFor(d.TLS != nil) + "://" + d.Host
	}
	return fmt.Sprintf("http://%s.%s.svc", dashboardName(s.Name), s.Namespace)
}

func schemeFor(tls bool) string {
	if tls {
		return "https"
	}
	return "http"
}

// snippet is the <script> tag shown in the site's status; "" without a
// public collector URL, since no browser could load it.
func snippet(s *v1alpha1.TrackingSite) string {
	u := collectorURL(s)
	if u == "" {
		return ""
	}
	return config.Snippet(u, trackerPath(s), s.Name)
}

// noPublicHostMessage says what works without a public host and which field
// to set for a snippet.
func noPublicHostMessage(s *v1alpha1.TrackingSite) string {
	return fmt.Sprintf("collector and dashboard are running; server-side events are accepted in the cluster at %s/v1/events, "+
		"but no public host serves the collector, so there is no snippet: set spec.tracker.firstPartyHost "+
		"(a host of the site's own, e.g. %s) or spec.dashboard.host", inClusterCollectorURL(s), firstDomain(s))
}

func firstDomain(s *v1alpha1.TrackingSite) string {
	if len(s.Spec.Domains) > 0 {
		return s.Spec.Domains[0]
	}
	return "shop.example.com"
}

func trackerPath(s *v1alpha1.TrackingSite) string {
	if p := s.Spec.Tracker.Path; p != "" {
		return p
	}
	return "/_ts"
}

// wantsCollectorIngress: the Ingress <site>-collector serves firstPartyHost.
func wantsCollectorIngress(s *v1alpha1.TrackingSite) bool {
	return s.Spec.Tracker.FirstPartyHost != ""
}

// wantsDashboardIngress: the Ingress <site>-dashboard serves dashboard.host.
func wantsDashboardIngress(s *v1alpha1.TrackingSite) bool {
	return s.Spec.Dashboard.Host != ""
}

// buildCollectorIngress is the Ingress <site>-collector: tracker.path on
// the first-party host to the collector, with the host's own TLS.
func buildCollectorIngress(in siteInputs) *networkingv1ac.IngressApplyConfiguration {
	s := in.site
	t := s.Spec.Tracker
	class := t.IngressClassName
	if class == nil {
		class = s.Spec.Dashboard.IngressClassName
	}
	rule := ingressRule(t.FirstPartyHost, ingressPath(trackerPath(s), collectorName(s.Name)))
	return siteIngress(s, collectorName(s.Name), ComponentCollector, class, rule,
		t.FirstPartyHost, t.TLS, collectorName(s.Name)+"-tls")
}

// buildDashboardIngress is the Ingress <site>-dashboard: the dashboard on
// its host and, when no first-party host serves the collector, tracker.path
// on the same host to the collector.
func buildDashboardIngress(in siteInputs) *networkingv1ac.IngressApplyConfiguration {
	s := in.site
	d := s.Spec.Dashboard
	paths := []*networkingv1ac.HTTPIngressPathApplyConfiguration{ingressPath("/", dashboardName(s.Name))}
	if s.Spec.Tracker.FirstPartyHost == "" {
		paths = append(paths, ingressPath(trackerPath(s), collectorName(s.Name)))
	}
	return siteIngress(s, dashboardName(s.Name), ComponentDashboard, d.IngressClassName, ingressRule(d.Host, paths...),
		d.Host, d.TLS, dashboardName(s.Name)+"-tls")
}

// siteIngress is an Ingress of the site with one rule and, with tls set,
// the host's certificate: the Secret named, or one cert-manager issues into
// defaultSecret.
func siteIngress(s *v1alpha1.TrackingSite, name, component string, class *string,
	rule *networkingv1ac.IngressRuleApplyConfiguration, host string, tls *v1alpha1.IngressTLS, defaultSecret string,
) *networkingv1ac.IngressApplyConfiguration {
	spec := networkingv1ac.IngressSpec().WithRules(rule)
	if class != nil {
		spec.WithIngressClassName(*class)
	}
	ing := networkingv1ac.Ingress(name, s.Namespace).
		WithLabels(siteLabels(s.Name, component)).
		WithOwnerReferences(ownerRef("TrackingSite", s.Name, s.UID))
	if tls == nil {
		return ing.WithSpec(spec)
	}
	secret := tls.SecretName
	if secret == "" {
		secret = defaultSecret
	}
	spec.WithTLS(networkingv1ac.IngressTLS().WithHosts(host).WithSecretName(secret))
	switch {
	case tls.ClusterIssuer != "":
		ing.WithAnnotations(map[string]string{"cert-manager.io/cluster-issuer": tls.ClusterIssuer})
	case tls.Issuer != "":
		ing.WithAnnotations(map[string]string{"cert-manager.io/issuer": tls.Issuer})
	}
	return ing.WithSpec(spec)
}

func ingressRule(host string, paths ...*networkingv1ac.HTTPIngressPathApplyConfiguration) *networkingv1ac.IngressRuleApplyConfiguration {
	return networkingv1ac.IngressRule().WithHost(host).
		WithHTTP(networkingv1ac.HTTPIngressRuleValue().WithPaths(paths...))
}

// ingressPath routes a path prefix to a Service's http port. The longest
// matching prefix wins, so tracker.path beats the dashboard's /.
func ingressPath(path, service string) *networkingv1ac.HTTPIngressPathApplyConfiguration {
	return networkingv1ac.HTTPIngressPath().
		WithPath(path).
		WithPathType(networkingv1.PathTypePrefix).
		WithBackend(networkingv1ac.IngressBackend().
			WithService(networkingv1ac.IngressServiceBackend().
				WithName(service).
				WithPort(networkingv1ac.ServiceBackendPort().WithName("http"))))
}
