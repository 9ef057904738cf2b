package controllers

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// TestOperatorRunsWithGeneratedRBAC runs the operator as a user that holds
// only config/rbac/role.yaml (generated from the markers) and checks a site
// with a Destination and a RetentionPolicy still becomes Ready, then drives
// the operator to delete every kind of child it deletes (HPA, PDB, Ingress,
// forwarder Deployment, CronJob) and to close the site (finalizer, purge
// Job and its ConfigMap, the site's pods read): the role is enough, and the
// test fails if a marker, delete verbs included, is missing.
func TestOperatorRunsWithGeneratedRBAC(t *testing.T) {
	requireEnvtest(t)
	g := NewWithT(t)
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var role rbacv1.ClusterRole
	g.Expect(yaml.UnmarshalStrict(data, &role)).To(Succeed())
	role.Name = "trackstack-test-manager-role"
	g.Expect(k8sClient.Create(ctx, &role)).To(Succeed())
	user, err := testEnv.AddUser(envtest.User{Name: "trackstack-operator-under-test"}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k8sClient.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "trackstack-test-manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "trackstack-operator-under-test"}},
	})).To(Succeed())

	// Swap the suite's operator for one with the restricted identity.
	op.stop()
	forbidden := &forbiddenCounter{}
	restricted, err := startOperatorWith(ctx, func(cfg *rest.Config) *rest.Config {
		c := rest.CopyConfig(user.Config())
		c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return forbidden.wrap(rt) })
		return c
	})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() {
		restricted.stop()
		op, err = startOperator(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
	}()

	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
	site := newSite(t, ns, "rbac", func(s *v1alpha1.TrackingSite) {
		s.Spec.Dashboard.Host = "stats.rbac.example"
		s.Spec.Collector.Autoscaling = &v1alpha1.AutoscalingSpec{MaxReplicas: 3}
		s.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete
	})
	dest := metaDestination(ns, "meta", "rbac", "meta-capi")
	g.Expect(k8sClient.Create(ctx, dest)).To(Succeed())
	pol := retentionPolicy(ns, "daily", "rbac")
	g.Expect(k8sClient.Create(ctx, pol)).To(Succeed())
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	waitCondition(t, dest, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	waitCondition(t, pol, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	g.Expect(forbidden.seen()).To(BeEmpty(), "requests the generated role does not allow")

	children := []struct {
		name string
		obj  client.Object
	}{
		{"rbac-collector", &autoscalingv2.HorizontalPodAutoscaler{}},
		{"rbac-collector", &policyv1.PodDisruptionBudget{}},
		{"rbac-dashboard", &networkingv1.Ingress{}},
		{"rbac-fwd-meta", &appsv1.Deployment{}},
		{"rbac-retention-daily", &batchv1.CronJob{}},
	}
	for _, c := range children {
		getObj(t, ns, c.name, c.obj)
	}

	// No autoscaling, one replica and no dashboard host: the site's
	// controller deletes the HPA, the PDB and the dashboard Ingress.
	updateSite(t, site, func(s *v1alpha1.TrackingSite) {
		s.Spec.Collector.Autoscaling = nil
		s.Spec.Collector.Replicas = ptr.To[int32](1)
		s.Spec.Dashboard.Host = ""
	})
	for _, c := range children[:3] {
		waitDeletedByOperator(t, ns, c.name, c.obj, forbidden)
	}

	// Without their site, the Destination's controller deletes the
	// forwarder and the RetentionPolicy's the CronJob (the site's own
	// children are left to the garbage collector, which envtest lacks).
	// The site's controller stops the collector and dashboard and runs the
	// purge Job, whose success releases the site.
	g.Expect(k8sClient.Delete(ctx, site)).To(Succeed())
	for _, c := range children[3:] {
		waitDeletedByOperator(t, ns, c.name, c.obj, forbidden)
	}
	for _, name := range []string{"rbac-collector", "rbac-dashboard"} {
		waitDeletedByOperator(t, ns, name, &appsv1.Deployment{}, forbidden)
	}
	job := getObj(t, ns, "rbac-purge", &batchv1.Job{})
	assertPurgeConfig(t, job)
	finishJob(t, job, batchv1.JobComplete, metav1.Now())
	waitDeletedByOperator(t, ns, "rbac", &v1alpha1.TrackingSite{}, forbidden)
}

// waitDeletedByOperator waits until the operator has deleted an object, and
// fails at once when the API server refuses the operator a request.
func waitDeletedByOperator(t *testing.T, ns, name string, obj client.Object, forbidden *forbiddenCounter) {
	t.Helper()
	g := NewWithT(t)
	gone := func() bool {
		return apierrors.IsNotFound(k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj))
	}
	g.Eventually(func() bool { return gone() || len(forbidden.seen()) > 0 }, timeout, interval).Should(BeTrue(), "%T %s not deleted", obj, name)
	g.Expect(forbidden.seen()).To(BeEmpty(), "requests the generated role does not allow")
	g.Expect(gone()).To(BeTrue(), "%T %s not deleted", obj, name)
}
