package controllers

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// runtimeLimits reads the limits the site's runtime ConfigMap holds now.
func runtimeLimits(g Gomega, ns, site string) config.Limits {
	var cm corev1.ConfigMap
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: site + "-runtime"}, &cm)).To(Succeed())
	rc, err := config.Parse([]byte(cm.Data[config.FileName]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rc.Limits).NotTo(BeNil(), "the rendered config resolves the limits")
	return *rc.Limits
}

// TestCollectorLimitsReachTheRuntimeConfig checks that spec.collector.limits
// lands in <site>-runtime with every unset field defaulted and 0 kept as
// unlimited, and that changing a limit rolls the collector.
func TestCollectorLimitsReachTheRuntimeConfig(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	plain := newSite(t, ns, "plain")
	limited := newSite(t, ns, "limited", func(s *v1alpha1.TrackingSite) {
		s.Spec.Collector.Limits = &v1alpha1.CollectorLimits{
			ServerEventsPerSecond: ptr.To[int32](80_000),
			IPBurst:               ptr.To[int32](0),
			BotEventsPerSecond:    ptr.To[int32](10),
		}
	})
	waitCondition(t, plain, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")
	waitCondition(t, limited, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")

	g.Expect(runtimeLimits(g, ns, "plain")).To(Equal(config.DefaultLimits()))
	want := config.DefaultLimits()
	want.ServerEventsPerSecond, want.IPBurst, want.BotEventsPerSecond = 80_000, 0, 10
	g.Expect(runtimeLimits(g, ns, "limited")).To(Equal(want))

	col := getObj(t, ns, "limited-collector", &appsv1.Deployment{})
	before := col.Spec.Template.Annotations[AnnotationConfigHash]
	// The operator writes the status meanwhile: update with retries on conflict.
	updateSite(t, limited, func(s *v1alpha1.TrackingSite) {
		s.Spec.Collector.Limits.BrowserEventsPerSecond = ptr.To[int32](0)
		s.Spec.Collector.Limits.ServerEventsPerSecond = nil
	})
	want.BrowserEventsPerSecond, want.ServerEventsPerSecond = 0, config.DefaultLimits().ServerEventsPerSecond
	g.Eventually(func(g Gomega) {
		g.Expect(runtimeLimits(g, ns, "limited")).To(Equal(want))
	}, timeout, interval).Should(Succeed())
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(col), col)
		return col.Spec.Template.Annotations[AnnotationConfigHash]
	}, timeout, interval).ShouldNot(Equal(before), "a new limit rolls the collector, which reads it at start")
}
