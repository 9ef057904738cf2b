package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// resyncForTests replaces the cache's resync period (controller-runtime's
// default, 10 h, in main.go) in TestQuietAfterReady. The informers' minimum
// resync period is 1 s.
const resyncForTests = 2 * time.Second

// ourControllers are the names our reconcilers register under.
var ourControllers = []string{"trackingsite", "destination", "retentionpolicy"}

// TestQuietAfterReady checks that an operator with nothing to do writes
// nothing. Besides events, the only thing that reconciles an object again is
// the periodic resync of the operator's caches (no reconciler asks for a
// timed requeue; failed passes are retried with backoff, and nothing here
// fails). So the operator under test resyncs every resyncForTests, watches
// only this test's namespace, and the quiet window is measured in reconciles
// of each controller: it spans several resyncs of every object.
func TestQuietAfterReady(t *testing.T) {
	requireEnvtest(t)
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)

	op.stop()
	quiet, err := startOperatorWith(ctx, suiteIdentity, func(o *ctrl.Options) {
		o.Cache = CacheOptions([]string{ns})
		o.Cache.SyncPeriod = ptr.To(resyncForTests)
	})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() {
		quiet.stop()
		op, err = startOperator(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
	}()

	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
	site := newSite(t, ns, "quiet", func(s *v1alpha1.TrackingSite) {
		s.Spec.Dashboard.Host = "stats.quiet.example"
		s.Spec.Collector.Autoscaling = &v1alpha1.AutoscalingSpec{MaxReplicas: 4}
	})
	dest := metaDestination(ns, "meta", "quiet", "meta-capi")
	g.Expect(k8sClient.Create(ctx, dest)).To(Succeed())
	pol := retentionPolicy(ns, "daily", "quiet")
	g.Expect(k8sClient.Create(ctx, pol)).To(Succeed())
	waitReconciled(t, site, metav1.ConditionTrue)
	waitReconciled(t, dest, metav1.ConditionTrue)
	waitReconciled(t, pol, metav1.ConditionTrue)
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(site), site)
		return site.Status.Destinations
	}, timeout, interval).Should(Equal("1/1 ready"))

	// One more pass of every controller after all is Ready: what the last
	// changes set off has run. Then count writes over three more passes.
	waitReconciles(t, reconcileCounts(t), 1)
	before := quiet.writes.Load()
	waitReconciles(t, reconcileCounts(t), 3)
	after := quiet.writes.Load()
	quiet.mu.Lock()
	recent := append([]string(nil), quiet.writeLog...)
	quiet.mu.Unlock()
	g.Expect(after-before).To(BeZero(), "the operator wrote while idle; last writes: %v", recent)
}

// reconcileCounts reads how many reconciles each of our controllers has
// finished, from controller-runtime's metrics (one registry per process;
// only one operator runs at a time).
func reconcileCounts(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" {
					counts[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return counts
}

// waitReconciles waits until each of our controllers has finished n more
// reconciles than in base.
func waitReconciles(t *testing.T, base map[string]float64, n float64) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		now := reconcileCounts(t)
		for _, c := range ourControllers {
			g.Expect(now[c]-base[c]).To(BeNumerically(">=", n), "reconciles of %s", c)
		}
	}, timeout+time.Duration(n)*2*resyncForTests, interval).Should(Succeed())
}
