package controllers

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// The states of each kind that Argo CD's health scripts are tested on, in
// the order of their health_test.yaml. Every one is reached by the real
// operator; where the test stands in for a controller envtest lacks
// (Deployment rollouts, Job results), it writes what that controller would.

const (
	kindSite        = "TrackingSite"
	kindDestination = "Destination"
	kindRetention   = "RetentionPolicy"
)

func healthFixtures() []fixture {
	var all []fixture
	for _, fs := range [][]fixture{siteFixtures(), destinationFixtures(), retentionFixtures()} {
		all = append(all, fs...)
	}
	return all
}

func siteFixtures() []fixture {
	ready := hasCondition(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	return []fixture{
		{kindSite, "new", "Progressing", literal("Waiting for the trackstack operator to reconcile the TrackingSite"),
			func(t *testing.T, ns string) trackstackObject { return newSite(t, ns, "shop") }},
		{kindSite, "progressing", "Progressing", messageOf(v1alpha1.ReconcilingCondition),
			func(t *testing.T, ns string) trackstackObject {
				createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
				site := newSite(t, ns, "shop")
				return settle(t, site, func(g Gomega, _ trackstackObject) {
					holdRollout(g, ns, "shop-collector", 1)
					holdRollout(g, ns, "shop-dashboard", 1)
				}, hasCondition(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonProgressing),
					messageContains(v1alpha1.ReconcilingCondition, "1/2 replicas available"))
			}},
		{kindSite, "ready", "Healthy", messageOf(v1alpha1.ReadyCondition),
			func(t *testing.T, ns string) trackstackObject {
				site := readySiteWithDestination(t, ns)
				return settle(t, site, ready, func(g Gomega, obj trackstackObject) {
					g.Expect(obj.(*v1alpha1.TrackingSite).Status.Destinations).To(Equal("1/1 ready"))
				})
			}},
		{kindSite, "ready-no-public-host", "Healthy", messageOf(v1alpha1.ReadyCondition),
			func(t *testing.T, ns string) trackstackObject {
				rollouts.auto(ns)
				createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
				return settle(t, newSite(t, ns, "shop"),
					hasCondition(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost))
			}},
		{kindSite, "stalled-secret-not-found", "Degraded", messageOf(v1alpha1.StalledCondition),
			func(t *testing.T, ns string) trackstackObject {
				return settle(t, newSite(t, ns, "shop"), stalledFor(v1alpha1.ReasonSecretNotFound))
			}},
		{kindSite, "stalled-secret-key-missing", "Degraded", messageOf(v1alpha1.StalledCondition),
			func(t *testing.T, ns string) trackstackObject {
				createSecret(t, ns, "pg", map[string]string{"url": "postgres://typo"})
				return settle(t, newSite(t, ns, "shop"), stalledFor(v1alpha1.ReasonSecretKeyMissing))
			}},
		{kindSite, "stalled-invalid-ownership", "Degraded", messageOf(v1alpha1.StalledCondition),
			func(t *testing.T, ns string) trackstackObject {
				createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
				foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shop-runtime", Namespace: ns}}
				NewWithT(t).Expect(k8sClient.Create(context.Background(), foreign)).To(Succeed())
				return settle(t, newSite(t, ns, "shop"), stalledFor(v1alpha1.ReasonInvalidOwnership))
			}},
		{kindSite, "destination-not-ready", "Degraded", messageOf(v1alpha1.ReadyCondition),
			func(t *testing.T, ns string) trackstackObject {
				rollouts.auto(ns)
				createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
				site := newSite(t, ns, "shop")
				NewWithT(t).Expect(k8sClient.Create(context.Background(), metaDestination(ns, "meta", "shop", "meta-capi"))).To(Succeed())
				return settle(t, site, hasCondition(v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonDestinationNotReady))
			}},
		{kindSite, "stale-observed-generation", "Progressing", waitingForGeneration,
			func(t *testing.T, ns string) trackstackObject {
				rollouts.auto(ns)
				createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
				site := settle(t, newSite(t, ns, "shop"), hasCondition(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost))
				return updatedSpec(t, site, func() {
					s := site.(*v1alpha1.TrackingSite)
					s.Spec.Domains = append(s.Spec.Domains, "www.shop.example.com")
				})
			}},
		// The operator leaves a suspended site alone, status included: it
		// keeps describing the generation before spec.suspend was set.
		{kindSite, "suspended", "Suspended", literal("Suspended (spec.suspend): the operator leaves the site's objects as they are"),
			func(t *testing.T, ns string) trackstackObject {
				rollouts.auto(ns)
				createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
				site := settle(t, newSite(t, ns, "shop"), hasCondition(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost))
				return updatedSpec(t, site, func() { site.(*v1alpha1.TrackingSite).Spec.Suspend = true })
			}},
	}
}

func destinationFixtures() []fixture {
	withSite := func(t *testing.T, ns string) {
		createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
		newSite(t, ns, "shop")
	}
	create := func(t *testing.T, d *v1alpha1.Destination) *v1alpha1.Destination {
		NewWithT(t).Expect(k8sClient.Create(context.Background(), d)).To(Succeed())
		return d
	}
	readyDest := func(t *testing.T, ns string) trackstackObject {
		rollouts.auto(ns)
		withSite(t, ns)
		createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
		return settle(t, create(t, metaDestination(ns, "meta", "shop", "meta-capi")),
			hasCondition(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded))
	}
	return []fixture{
		{kindDestination, "new", "Progressing", literal("Waiting for the trackstack operator to reconcile the Destination"),
			func(t *testing.T, ns string) trackstackObject {
				return create(t, metaDestination(ns, "meta", "shop", "meta-capi"))
			}},
		{kindDestination, "progressing", "Progressing", messageOf(v1alpha1.ReconcilingCondition),
			func(t *testing.T, ns string) trackstackObject {
				withSite(t, ns)
				createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
				d := create(t, metaDestination(ns, "meta", "shop", "meta-capi"))
				return settle(t, d, func(g Gomega, _ trackstackObject) { holdRollout(g, ns, "shop-fwd-meta", 0) },
					hasCondition(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonProgressing),
					messageContains(v1alpha1.ReconcilingCondition, "0/1 replicas available"))
			}},
		{kindDestination, "ready", "Healthy", messageOf(v1alpha1.ReadyCondition), readyDest},
		{kindDestination, "stalled-secret-not-found", "Degraded", messageOf(v1alpha1.StalledCondition),
			func(t *testing.T, ns string) trackstackObject {
				withSite(t, ns)
				return settle(t, create(t, metaDestination(ns, "meta", "shop", "meta-capi")), stalledFor(v1alpha1.ReasonSecretNotFound))
			}},
		{kindDestination, "stalled-secret-key-missing", "Degraded", messageOf(v1alpha1.StalledCondition),
			func(t *testing.T, ns string) trackstackObject {
				withSite(t, ns)
				createSecret(t, ns, "meta-capi", map[string]string{"token": "EAAB"})
				return settle(t, create(t, metaDestination(ns, "meta", "shop", "meta-capi")), stalledFor(v1alpha1.ReasonSecretKeyMissing))
			}},
		{kindDestination, "stalled-site-not-found", "Degraded", messageOf(v1alpha1.StalledCondition),
			func(t *testing.T, ns string) trackstackObject {
				createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
				return settle(t, create(t, metaDestination(ns, "meta", "shop", "meta-capi")), stalledFor(v1alpha1.ReasonSiteNotFound))
			}},
		// An admission policy of the cluster refuses the forwarder: the
		// operator retries, and Argo CD shows it Degraded with the refusal.
		{kindDestination, "apply-failed", "Degraded", messageOf(v1alpha1.ReadyCondition),
			func(t *testing.T, ns string) trackstackObject {
				denyUnapprovedImages(t, ns)
				withSite(t, ns)
				createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
				return settle(t, create(t, metaDestination(ns, "meta", "shop", "meta-capi")),
					hasCondition(v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonApplyFailed),
					hasCondition(v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonApplyFailed))
			}},
		{kindDestination, "paused", "Suspended", literal("Paused (spec.paused): events are recorded and sent once unpaused"),
			func(t *testing.T, ns string) trackstackObject {
				rollouts.auto(ns)
				withSite(t, ns)
				createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
				d := metaDestination(ns, "meta", "shop", "meta-capi")
				d.Spec.Paused = true
				return settle(t, create(t, d), hasCondition(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonPaused))
			}},
		{kindDestination, "stale-observed-generation", "Progressing", waitingForGeneration,
			func(t *testing.T, ns string) trackstackObject {
				d := readyDest(t, ns)
				return updatedSpec(t, d, func() { d.(*v1alpha1.Destination).Spec.Meta.TestEventCode = "TEST42" })
			}},
	}
}

func retentionFixtures() []fixture {
	create := func(t *testing.T, ns string, mutate func(*v1alpha1.RetentionPolicy)) *v1alpha1.RetentionPolicy {
		p := retentionPolicy(ns, "daily", "shop")
		mutate(p)
		NewWithT(t).Expect(k8sClient.Create(context.Background(), p)).To(Succeed())
		return p
	}
	keep := func(*v1alpha1.RetentionPolicy) {}
	readyPolicy := func(t *testing.T, ns string) trackstackObject {
		createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
		newSite(t, ns, "shop")
		return settle(t, create(t, ns, keep), hasCondition(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded))
	}
	return []fixture{
		{kindRetention, "new", "Progressing", literal("Waiting for the trackstack operator to reconcile the RetentionPolicy"),
			func(t *testing.T, ns string) trackstackObject { return create(t, ns, keep) }},
		{kindRetention, "ready", "Healthy", messageOf(v1alpha1.ReadyCondition), readyPolicy},
		{kindRetention, "stalled-site-not-found", "Degraded", messageOf(v1alpha1.StalledCondition),
			func(t *testing.T, ns string) trackstackObject {
				return settle(t, create(t, ns, keep), stalledFor(v1alpha1.ReasonSiteNotFound))
			}},
		{kindRetention, "job-failed", "Degraded", messageOf(v1alpha1.ReadyCondition),
			func(t *testing.T, ns string) trackstackObject {
				p := readyPolicy(t, ns).(*v1alpha1.RetentionPolicy)
				cj := getObj(t, ns, "shop-retention-daily", &batchv1.CronJob{})
				retentionJob(t, ns, "shop-retention-daily-29461077", cj, p, batchv1.JobFailed, fixtureTime)
				return settle(t, p, hasCondition(v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonJobFailed))
			}},
		{kindRetention, "suspended", "Suspended", literal("Suspended (spec.suspend): no retention Jobs are started"),
			func(t *testing.T, ns string) trackstackObject {
				createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
				newSite(t, ns, "shop")
				p := create(t, ns, func(p *v1alpha1.RetentionPolicy) { p.Spec.Suspend = true })
				return settle(t, p, hasCondition(v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSuspended))
			}},
		{kindRetention, "stale-observed-generation", "Progressing", waitingForGeneration,
			func(t *testing.T, ns string) trackstackObject {
				p := readyPolicy(t, ns)
				return updatedSpec(t, p, func() { p.(*v1alpha1.RetentionPolicy).Spec.MaxAgeDays = 400 })
			}},
	}
}

// readySiteWithDestination is a public site with one Destination, all rolled out.
func readySiteWithDestination(t *testing.T, ns string) *v1alpha1.TrackingSite {
	rollouts.auto(ns)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
	site := newSite(t, ns, "shop", func(s *v1alpha1.TrackingSite) { s.Spec.Dashboard.Host = "stats.example.com" })
	NewWithT(t).Expect(k8sClient.Create(context.Background(), metaDestination(ns, "meta", "shop", "meta-capi"))).To(Succeed())
	return site
}

// stalledFor checks Stalled=True and Ready=False for a reason a person must fix.
func stalledFor(reason string) func(Gomega, trackstackObject) {
	return func(g Gomega, obj trackstackObject) {
		hasCondition(v1alpha1.StalledCondition, metav1.ConditionTrue, reason)(g, obj)
		hasCondition(v1alpha1.ReadyCondition, metav1.ConditionFalse, reason)(g, obj)
	}
}

// messageContains checks part of a condition's message.
func messageContains(typ, part string) func(Gomega, trackstackObject) {
	return func(g Gomega, obj trackstackObject) {
		c := conditionOf(obj, typ)
		g.Expect(c).NotTo(BeNil(), "no condition %s", typ)
		g.Expect(c.Message).To(ContainSubstring(part))
	}
}

// updatedSpec changes obj's spec and returns the API server's answer: the
// new generation with the status the operator wrote for the one before,
// which it has not had the chance to look at yet.
func updatedSpec(t *testing.T, obj trackstackObject, mutate func()) trackstackObject {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate()
		return k8sClient.Update(context.Background(), obj)
	})
	if err != nil {
		t.Fatalf("updating %s: %v", obj.GetName(), err)
	}
	return obj
}

// holdRollout plays the Deployment controller midway through a rollout:
// every replica runs the current template, available of them are available.
// It writes only when the stored status says otherwise.
func holdRollout(g Gomega, ns, name string, available int32) {
	ctx := context.Background()
	var d appsv1.Deployment
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &d)).To(Succeed())
	want := ptr.Deref(d.Spec.Replicas, 1)
	st := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: want, UpdatedReplicas: want,
		ReadyReplicas: available, AvailableReplicas: available, UnavailableReplicas: want - available}
	if d.Status.ObservedGeneration == st.ObservedGeneration && d.Status.UpdatedReplicas == want && d.Status.AvailableReplicas == available {
		return
	}
	d.Status = st
	g.Expect(k8sClient.Status().Update(ctx, &d)).To(Succeed())
}

// denyUnapprovedImages installs, for namespace ns only, an admission policy
// that refuses Deployments whose images are not from registry.example.com,
// and waits until the API server enforces it (it loads policies
// asynchronously).
func denyUnapprovedImages(t *testing.T, ns string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	name := "approved-images-" + ns
	deployments := admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
	}}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy:    ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{deployments}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: `object.spec.template.spec.containers.all(c, c.image.startsWith("registry.example.com/"))`,
				Message:    "images must come from registry.example.com",
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{corev1.LabelMetadataName: ns}}},
		},
	}
	g.Expect(k8sClient.Create(ctx, policy)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	t.Cleanup(func() {
		_ = k8sClient.Delete(ctx, binding)
		_ = k8sClient.Delete(ctx, policy)
	})
	probe := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "probe"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "probe"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "probe", Image: "example.test/probe:1"}}},
			},
		},
	}
	g.Eventually(func() bool {
		err := k8sClient.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), "registry.example.com")
	}, timeout, interval).Should(BeTrue(), "admission policy %s not enforced", name)
}
