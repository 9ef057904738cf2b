package controllers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// ingressesIn returns the shapes of every Ingress in a namespace, by name.
func ingressesIn(g Gomega, ns string) map[string]ingressShape {
	var list networkingv1.IngressList
	g.Expect(k8sClient.List(context.Background(), &list, client.InNamespace(ns))).To(Succeed())
	got := map[string]ingressShape{}
	for i := range list.Items {
		got[list.Items[i].Name] = shapeOf(&list.Items[i])
	}
	return got
}

// TestPublicCollectorOnACluster runs each way of publishing a site against
// a real API server: the status URL and snippet, the Ingresses as stored,
// the URL in the runtime config, and the Ready condition (NoPublicHost
// without a host, still Ready and kstatus Current).
func TestPublicCollectorOnACluster(t *testing.T) {
	for _, tc := range publicSiteCases() {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ns := newNamespace(t, true)
			createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
			site := newSite(t, ns, "shop", func(s *v1alpha1.TrackingSite) {
				if tc.mutate != nil {
					tc.mutate(s)
				}
			})
			reason := v1alpha1.ReasonSucceeded
			if tc.noPublicOK {
				reason = v1alpha1.ReasonNoPublicHost
			}
			cond := waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, reason)
			g.Expect(site.Status.CollectorURL).To(Equal(tc.collector))
			g.Expect(site.Status.Snippet).To(Equal(tc.snippet))
			g.Eventually(func(g Gomega) {
				g.Expect(ingressesIn(g, ns)).To(Equal(tc.ingresses))
			}, timeout, interval).Should(Succeed())

			cm := getObj(t, ns, "shop-runtime", &corev1.ConfigMap{})
			rc, err := config.Parse([]byte(cm.Data[config.FileName]))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(rc.Site.CollectorURL).To(Equal(tc.collector), "the runtime knows the URL it is published at")

			g.Expect(conditionOf(site, v1alpha1.StalledCondition)).To(BeNil())
			g.Expect(kstatusOf(t, site)).To(Equal(status.CurrentStatus))
			if tc.noPublicOK {
				g.Expect(cond.Message).To(ContainSubstring("set spec.tracker.firstPartyHost"))
				g.Expect(cond.Message).To(ContainSubstring("spec.dashboard.host"))
				g.Expect(cond.Message).To(ContainSubstring("http://shop-collector." + ns + ".svc/v1/events"))
			}
		})
	}
}

// TestPublicHostChangesMoveTheRoute follows one site from no public host to
// the dashboard host to a first-party host and back: the collector's route
// moves between the Ingresses and the condition and snippet follow.
func TestPublicHostChangesMoveTheRoute(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "shop")
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost)
	g.Expect(site.Status.Snippet).To(BeEmpty())

	update := func(mutate func(*v1alpha1.TrackingSite)) {
		t.Helper()
		g.Eventually(func() error {
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(site), site); err != nil {
				return err
			}
			mutate(site)
			return k8sClient.Update(ctx, site)
		}, timeout, interval).Should(Succeed())
	}
	waitSnippet := func(want string) {
		t.Helper()
		g.Eventually(func() string {
			_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(site), site)
			return site.Status.Snippet
		}, timeout, interval).Should(Equal(want))
	}
	waitIngresses := func(want map[string]ingressShape) {
		t.Helper()
		g.Eventually(func(g Gomega) { g.Expect(ingressesIn(g, ns)).To(Equal(want)) }, timeout, interval).Should(Succeed())
	}
	none := map[string]string{}

	update(func(s *v1alpha1.TrackingSite) { s.Spec.Dashboard.Host = "stats.example.com" })
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	waitSnippet(`<script defer src="http://stats.example.com/_ts/t.js" data-site="shop"></script>`)
	waitIngresses(map[string]ingressShape{"shop-dashboard": {
		Routes: map[string]map[string]string{"stats.example.com": {"/": "shop-dashboard", "/_ts": "shop-collector"}},
		TLS:    none, Annotations: none}})

	update(func(s *v1alpha1.TrackingSite) {
		s.Spec.Tracker.FirstPartyHost = "shop.example.com"
		s.Spec.Tracker.TLS = &v1alpha1.IngressTLS{ClusterIssuer: "letsencrypt"}
		s.Spec.Tracker.IngressClassName = ptr.To("nginx")
	})
	waitSnippet(`<script defer src="https://shop.example.com/_ts/t.js" data-site="shop"></script>`)
	waitIngresses(map[string]ingressShape{
		"shop-collector": {Class: "nginx",
			Routes:      map[string]map[string]string{"shop.example.com": {"/_ts": "shop-collector"}},
			TLS:         map[string]string{"shop.example.com": "shop-collector-tls"},
			Annotations: map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}},
		"shop-dashboard": {
			Routes: map[string]map[string]string{"stats.example.com": {"/": "shop-dashboard"}},
			TLS:    none, Annotations: none}})

	update(func(s *v1alpha1.TrackingSite) {
		s.Spec.Tracker.FirstPartyHost, s.Spec.Tracker.TLS, s.Spec.Tracker.IngressClassName = "", nil, nil
		s.Spec.Dashboard.Host = ""
	})
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost)
	waitSnippet("")
	waitIngresses(map[string]ingressShape{})
	g.Expect(site.Status.CollectorURL).To(BeEmpty())
}

// TestSampleSiteIsPublic applies the sample TrackingSite as it is and checks
// that its snippet loads from the shop's own host over https, and that the
// README's "Install on a cluster" ends with exactly that snippet.
func TestSampleSiteIsPublic(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join("..", "config", "samples", "trackstack_v1alpha1_trackingsite.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	site := &v1alpha1.TrackingSite{}
	g.Expect(yaml.UnmarshalStrict(data, site)).To(Succeed())
	ns := newNamespace(t, true)
	site.Namespace = ns
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	g.Expect(k8sClient.Create(context.Background(), site)).To(Succeed())
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	want := `<script defer src="https://shop.example.com/_ts/t.js" data-site="shop"></script>`
	g.Expect(site.Status.Snippet).To(Equal(want))
	g.Eventually(func(g Gomega) {
		ings := ingressesIn(g, ns)
		g.Expect(ings).To(HaveKey("shop-collector"))
		g.Expect(ings["shop-collector"].TLS).To(HaveKey("shop.example.com"))
	}, timeout, interval).Should(Succeed())

	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	g.Expect(err).NotTo(HaveOccurred())
	_, section, found := strings.Cut(string(readme), "\n## Install on a cluster\n")
	g.Expect(found).To(BeTrue(), "README has an Install on a cluster section")
	section, _, _ = strings.Cut(section, "\n## ")
	g.Expect(strings.TrimSpace(section)).To(HaveSuffix("```html\n"+want+"\n```"),
		"Install on a cluster ends with the snippet the sample site gets")
}
