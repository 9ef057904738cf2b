package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

func TestTrackingSiteCreatesItsObjects(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, false)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://u:p@db/trackstack"})
	site := newSite(t, ns, "shop", func(s *v1alpha1.TrackingSite) {
		s.Labels = map[string]string{"app.kubernetes.io/instance": "argo-app"}
		s.Spec.Dashboard.Host = "stats.example.com"
		s.Spec.Dashboard.IngressClassName = ptr.To("nginx")
		s.Spec.Dashboard.TLS = &v1alpha1.IngressTLS{ClusterIssuer: "letsencrypt"}
		s.Spec.Tracker.FirstPartyHost = "shop.example.com"
		s.Spec.Tracker.TLS = &v1alpha1.IngressTLS{SecretName: "shop-example-com-tls"}
	})

	// Before the Deployments roll out the site is in progress.
	waitCondition(t, site, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonProgressing)

	cm := getObj(t, ns, "shop-runtime", &corev1.ConfigMap{})
	rc, err := config.Parse([]byte(cm.Data[config.FileName]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rc.Site.Name).To(Equal("shop"))
	g.Expect(rc.Tracker.Path).To(Equal("/_ts"))
	g.Expect(rc.Storage.DSNFile).To(Equal("/etc/trackstack/storage/uri"))

	keys := getObj(t, ns, "shop-keys", &corev1.Secret{})
	for _, k := range config.GeneratedKeys {
		g.Expect(len(keys.Data[k])).To(BeNumerically(">=", 32), "key %s", k)
	}

	col := getObj(t, ns, "shop-collector", &appsv1.Deployment{})
	g.Expect(*col.Spec.Replicas).To(Equal(int32(2)))
	pod := col.Spec.Template.Spec
	c := pod.Containers[0]
	g.Expect(c.Image).To(Equal("example.test/trackstack:test"))
	g.Expect(c.Args).To(Equal([]string{"collect", "--config", "/etc/trackstack/config/config.yaml", "--listen=:8080",
		"--trusted-proxies=10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7"}))
	assertRestricted(t, pod)
	g.Expect(c.Resources.Requests).NotTo(BeEmpty())
	g.Expect(c.Resources.Limits).NotTo(BeEmpty())
	g.Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
	g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
	g.Expect(col.Spec.Template.Annotations).To(HaveKey(AnnotationSecretHash))
	g.Expect(col.Spec.Template.Annotations).To(HaveKey(AnnotationConfigHash))

	getObj(t, ns, "shop-collector", &corev1.Service{})
	getObj(t, ns, "shop-collector", &policyv1.PodDisruptionBudget{})
	getObj(t, ns, "shop-dashboard", &appsv1.Deployment{})
	getObj(t, ns, "shop-dashboard", &corev1.Service{})
	ing := getObj(t, ns, "shop-dashboard", &networkingv1.Ingress{})
	g.Expect(shapeOf(ing)).To(Equal(ingressShape{Class: "nginx",
		Routes:      map[string]map[string]string{"stats.example.com": {"/": "shop-dashboard"}},
		TLS:         map[string]string{"stats.example.com": "shop-dashboard-tls"},
		Annotations: map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}}))
	ing = getObj(t, ns, "shop-collector", &networkingv1.Ingress{})
	g.Expect(shapeOf(ing)).To(Equal(ingressShape{Class: "nginx",
		Routes:      map[string]map[string]string{"shop.example.com": {"/_ts": "shop-collector"}},
		TLS:         map[string]string{"shop.example.com": "shop-example-com-tls"},
		Annotations: map[string]string{}}))

	err = k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "shop-collector"}, &autoscalingv2.HorizontalPodAutoscaler{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no HPA without autoscaling")

	// Every object of ours carries our labels, an owner reference to the
	// site, and never the user's instance label.
	assertOwnedBySite(t, ns, site, 9)

	rollOutAll(t, ns)
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	g.Expect(conditionOf(site, v1alpha1.ReconcilingCondition)).To(BeNil())
	g.Expect(site.Status.ObservedGeneration).To(Equal(site.Generation))
	g.Expect(site.Status.CollectorURL).To(Equal("https://shop.example.com"))
	g.Expect(site.Status.DashboardURL).To(Equal("https://stats.example.com"))
	g.Expect(site.Status.Snippet).To(Equal(`<script defer src="https://shop.example.com/_ts/t.js" data-site="shop"></script>`))
}

func TestTrackingSiteSpecChangesPropagate(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "blog")
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")
	col := getObj(t, ns, "blog-collector", &appsv1.Deployment{})
	oldConfigHash := col.Spec.Template.Annotations[AnnotationConfigHash]

	// Autoscaling: an HPA appears and owns the replica count from then on.
	updateSite(t, site, func(site *v1alpha1.TrackingSite) {
		site.Spec.Collector.Autoscaling = &v1alpha1.AutoscalingSpec{MaxReplicas: 6}
		site.Spec.Privacy.IPAnonymization = v1alpha1.IPAnonymizationFull
		site.Spec.Dashboard.Host = "stats.blog.example"
	})

	hpa := getObj(t, ns, "blog-collector", &autoscalingv2.HorizontalPodAutoscaler{})
	g.Expect(hpa.Spec.MaxReplicas).To(Equal(int32(6)))
	g.Expect(*hpa.Spec.MinReplicas).To(Equal(int32(2)))
	getObj(t, ns, "blog-dashboard", &networkingv1.Ingress{})
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(col), col)
		return col.Spec.Template.Annotations[AnnotationConfigHash]
	}, timeout, interval).ShouldNot(Equal(oldConfigHash), "a config change rolls the collector")
	cm := getObj(t, ns, "blog-runtime", &corev1.ConfigMap{})
	g.Expect(cm.Data[config.FileName]).To(ContainSubstring("ipAnonymization: full"))

	// The HPA (another field manager) scales the Deployment: we leave it
	// alone, also when a spec change makes us apply the Deployment again.
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(col), col)).To(Succeed())
	col.Spec.Replicas = ptr.To[int32](5)
	g.Expect(k8sClient.Update(ctx, col, client.FieldOwner("horizontal-pod-autoscaler"))).To(Succeed())
	hashBeforeTouch := col.Spec.Template.Annotations[AnnotationConfigHash]
	touchSite(t, site)
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(col), col)).To(Succeed())
	g.Expect(col.Spec.Template.Annotations[AnnotationConfigHash]).NotTo(Equal(hashBeforeTouch), "the touch re-applied the collector")
	g.Expect(*col.Spec.Replicas).To(Equal(int32(5)), "replicas set by the HPA")

	// Removing the host removes the Ingress; a single replica drops the PDB.
	updateSite(t, site, func(site *v1alpha1.TrackingSite) {
		site.Spec.Dashboard.Host = ""
		site.Spec.Collector.Autoscaling = nil
		site.Spec.Collector.Replicas = ptr.To[int32](1)
	})
	for _, obj := range []client.Object{&networkingv1.Ingress{}, &autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}} {
		name := "blog-collector"
		if _, ok := obj.(*networkingv1.Ingress); ok {
			name = "blog-dashboard"
		}
		g.Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj))
		}, timeout, interval).Should(BeTrue(), "%T should be removed", obj)
	}
	g.Eventually(func() int32 {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(col), col)
		return *col.Spec.Replicas
	}, timeout, interval).Should(Equal(int32(1)))
}

func TestTrackingSiteDeletionLeavesNothingBehind(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
	// A host and autoscaling, so that every kind the site owns exists.
	site := newSite(t, ns, "gone", func(s *v1alpha1.TrackingSite) {
		s.Spec.Dashboard.Host = "stats.gone.example"
		s.Spec.Collector.Autoscaling = &v1alpha1.AutoscalingSpec{MaxReplicas: 3}
	})
	dest := metaDestination(ns, "meta", "gone", "meta-capi")
	g.Expect(k8sClient.Create(ctx, dest)).To(Succeed())
	pol := retentionPolicy(ns, "default", "gone")
	g.Expect(k8sClient.Create(ctx, pol)).To(Succeed())
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")
	waitCondition(t, dest, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")
	waitCondition(t, pol, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")

	g.Expect(k8sClient.Delete(ctx, site)).To(Succeed())

	// envtest runs no garbage collector: what the site owns is collected
	// through owner references in a real cluster, so check every object of
	// the site's label has one. Forwarders and CronJobs belong to the
	// Destination and RetentionPolicy; their controllers remove them.
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gone-fwd-meta"}, &appsv1.Deployment{}))
	}, timeout, interval).Should(BeTrue(), "forwarder removed with the site")
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gone-retention-default"}, &batchCronJob{}))
	}, timeout, interval).Should(BeTrue(), "CronJob removed with the site")
	waitCondition(t, dest, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonSiteNotFound)
	waitCondition(t, pol, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSiteNotFound)
	// What is left is exactly the site's own children, each owned by it.
	left := map[string][]string{}
	for _, list := range labelledLists() {
		g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{LabelSite: "gone"})).To(Succeed())
		for _, obj := range itemsOf(list) {
			left[kindName(obj)] = append(left[kindName(obj)], obj.GetName())
			refs := obj.GetOwnerReferences()
			g.Expect(refs).To(HaveLen(1), "%T %s", obj, obj.GetName())
			g.Expect(refs[0].UID).To(Equal(site.UID), "%T %s is owned by the deleted site", obj, obj.GetName())
			g.Expect(*refs[0].Controller).To(BeTrue())
		}
	}
	g.Expect(left).To(Equal(map[string][]string{
		"ConfigMap":               {"gone-runtime"},
		"Secret":                  {"gone-keys"},
		"Service":                 {"gone-collector", "gone-dashboard"},
		"Deployment":              {"gone-collector", "gone-dashboard"},
		"HorizontalPodAutoscaler": {"gone-collector"},
		"PodDisruptionBudget":     {"gone-collector"},
		"Ingress":                 {"gone-dashboard"},
	}), "objects of the site's label after its deletion")
}

func TestTrackingSiteMissingStorageSecret(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	site := newSite(t, ns, "nosecret")
	cond := waitCondition(t, site, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	g.Expect(cond.Message).To(ContainSubstring("Secret pg not found"))
	g.Expect(cond.Message).To(ContainSubstring("uri"))

	// The Secret exists but without the key: the condition names the key.
	s := createSecret(t, ns, "pg", map[string]string{"url": "postgres://typo"})
	cond = waitCondition(t, site, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretKeyMissing)
	g.Expect(cond.Message).To(ContainSubstring("no key uri"))

	s.StringData = map[string]string{"uri": "postgres://db"}
	g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost)
	g.Expect(conditionOf(site, v1alpha1.StalledCondition)).To(BeNil())

	// Rotating the Secret rolls the collector.
	col := getObj(t, ns, "nosecret-collector", &appsv1.Deployment{})
	before := col.Spec.Template.Annotations[AnnotationSecretHash]
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
	s.Data["uri"] = []byte("postgres://db-rotated")
	g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(col), col)
		return col.Spec.Template.Annotations[AnnotationSecretHash]
	}, timeout, interval).ShouldNot(Equal(before))
}

func TestTrackingSiteDriftIsRepaired(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "drift")
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")

	// A deleted child comes back.
	svc := getObj(t, ns, "drift-collector", &corev1.Service{})
	g.Expect(k8sClient.Delete(ctx, svc)).To(Succeed())
	g.Eventually(func() error {
		return k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "drift-collector"}, &corev1.Service{})
	}, timeout, interval).Should(Succeed())

	// A hand edit of a field we own is undone; someone else's annotation stays.
	col := getObj(t, ns, "drift-collector", &appsv1.Deployment{})
	patch := client.MergeFrom(col.DeepCopy())
	col.Spec.Template.Spec.Containers[0].Image = "evil.example/image:1"
	col.Annotations = map[string]string{"team.example.com/owner": "growth"}
	g.Expect(k8sClient.Patch(ctx, col, patch, client.FieldOwner("kubectl-edit"))).To(Succeed())
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(col), col)
		return col.Spec.Template.Spec.Containers[0].Image
	}, timeout, interval).Should(Equal("example.test/trackstack:test"))
	g.Expect(col.Annotations).To(HaveKeyWithValue("team.example.com/owner", "growth"))

	// The ConfigMap's content is restored too.
	cm := getObj(t, ns, "drift-runtime", &corev1.ConfigMap{})
	want := cm.Data[config.FileName]
	cm.Data[config.FileName] = "tampered"
	g.Expect(k8sClient.Update(ctx, cm)).To(Succeed())
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(cm), cm)
		return cm.Data[config.FileName]
	}, timeout, interval).Should(Equal(want))
}

func TestTrackingSiteRefusesForeignObjects(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "taken-runtime", Namespace: ns}, Data: map[string]string{"mine": "yes"}}
	g.Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
	site := newSite(t, ns, "taken")
	cond := waitCondition(t, site, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonInvalidOwnership)
	g.Expect(cond.Message).To(ContainSubstring("ConfigMap taken-runtime exists and is not owned"))
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), foreign)).To(Succeed())
	g.Expect(foreign.Data).To(Equal(map[string]string{"mine": "yes"}), "never overwritten")
	g.Expect(foreign.OwnerReferences).To(BeEmpty())
}

func TestGeneratedKeysNeverChange(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "keys")
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")
	first := getObj(t, ns, "keys-keys", &corev1.Secret{}).DeepCopy()

	// Spec changes reconcile again; an operator restart starts from scratch.
	// touchSite returns once the operator has reconciled the change, so
	// the keys are compared after the passes that could have replaced them.
	for i := 0; i < 3; i++ {
		touchSite(t, site)
	}
	op.stop()
	restarted, err := startOperator(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	op = restarted
	touchSite(t, site)
	s := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(first), s)).To(Succeed())
	g.Expect(s.Data).To(Equal(first.Data), "generated keys changed")

	// Deleting one key regenerates that key only.
	delete(s.Data, config.KeyIngest)
	s.Annotations[AnnotationKeys] = strings.Join(config.GeneratedKeys[1:], ",")
	g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	g.Eventually(func() []byte {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(s), s)
		return s.Data[config.KeyIngest]
	}, timeout, interval).ShouldNot(BeEmpty())
	g.Expect(s.Data[config.KeyIngest]).NotTo(Equal(first.Data[config.KeyIngest]))
	g.Expect(s.Data[config.KeyAdminPassword]).To(Equal(first.Data[config.KeyAdminPassword]))
}

// touchSite changes the site's spec (the path of a goal named "touched"),
// so the operator renders a new config and applies the children again, and
// waits until it has reconciled that spec to Ready.
func touchSite(t *testing.T, site *v1alpha1.TrackingSite) {
	t.Helper()
	updateSite(t, site, func(s *v1alpha1.TrackingSite) {
		touched := v1alpha1.Goal{Name: "touched", Path: fmt.Sprintf("/touched-%d", time.Now().UnixNano())}
		for i := range s.Spec.Goals {
			if s.Spec.Goals[i].Name == touched.Name {
				s.Spec.Goals[i] = touched
				return
			}
		}
		s.Spec.Goals = append(s.Spec.Goals, touched)
	})
	waitReconciled(t, site, metav1.ConditionTrue)
}

// rollOutAll marks every Deployment of a namespace rolled out once.
func rollOutAll(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	NewWithT(t).Eventually(func() error {
		var list appsv1.DeploymentList
		if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for i := range list.Items {
			if err := markRolledOut(ctx, k8sClient, &list.Items[i]); err != nil {
				return err
			}
		}
		return nil
	}, timeout, interval).Should(Succeed())
}

// assertRestricted checks the restricted Pod Security Standard.
func assertRestricted(t *testing.T, pod corev1.PodSpec) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(*pod.SecurityContext.RunAsNonRoot).To(BeTrue())
	g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
	g.Expect(*pod.AutomountServiceAccountToken).To(BeFalse())
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		g.Expect(*sc.ReadOnlyRootFilesystem).To(BeTrue(), c.Name)
		g.Expect(*sc.AllowPrivilegeEscalation).To(BeFalse(), c.Name)
		g.Expect(sc.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")), c.Name)
	}
}

// assertOwnedBySite checks the objects of the site's label: count, labels, owner.
func assertOwnedBySite(t *testing.T, ns string, site *v1alpha1.TrackingSite, want int) {
	t.Helper()
	g := NewWithT(t)
	g.Eventually(func(g Gomega) {
		n := 0
		for _, list := range labelledLists() {
			g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{LabelSite: site.Name})).To(Succeed())
			for _, obj := range itemsOf(list) {
				n++
				g.Expect(obj.GetLabels()).NotTo(HaveKey("app.kubernetes.io/instance"), "%T %s", obj, obj.GetName())
				g.Expect(obj.GetLabels()).To(HaveKeyWithValue(LabelManagedBy, ManagedBy))
				g.Expect(metav1.IsControlledBy(obj, site)).To(BeTrue(), "%T %s owned by site", obj, obj.GetName())
			}
		}
		g.Expect(n).To(Equal(want))
	}, timeout, interval).Should(Succeed())
}
