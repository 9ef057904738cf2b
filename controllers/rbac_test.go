package controllers

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// TestOperatorRunsWithGeneratedRBAC runs the operator as a user that holds
// only config/rbac/role.yaml (generated from the markers) and checks a site
// with a Destination and a RetentionPolicy still becomes Ready: the role is
// enough, and the test fails if a marker is missing.
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
	})
	dest := metaDestination(ns, "meta", "rbac", "meta-capi")
	g.Expect(k8sClient.Create(ctx, dest)).To(Succeed())
	pol := retentionPolicy(ns, "daily", "rbac")
	g.Expect(k8sClient.Create(ctx, pol)).To(Succeed())
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	waitCondition(t, dest, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	waitCondition(t, pol, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	g.Expect(forbidden.seen()).To(BeEmpty(), "requests the generated role does not allow")
}
