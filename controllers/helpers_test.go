package controllers

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

const (
	timeout  = 20 * time.Second
	interval = 50 * time.Millisecond
)

var nsCounter atomic.Int64

// newNamespace creates a namespace for one test; with autoRollout the
// simulated Deployment controller rolls out every Deployment in it.
func newNamespace(t *testing.T, autoRollout bool) string {
	t.Helper()
	requireEnvtest(t)
	name := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%100000, nsCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	if autoRollout {
		rollouts.auto(name)
	}
	return name
}

// createSecret creates a Secret with string data.
func createSecret(t *testing.T, ns, name string, data map[string]string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if err := k8sClient.Create(context.Background(), s); err != nil {
		t.Fatalf("creating Secret %s: %v", name, err)
	}
	return s
}

// siteSpec is a valid TrackingSite spec using Secret pg.
func siteSpec() v1alpha1.TrackingSiteSpec {
	return v1alpha1.TrackingSiteSpec{
		Domains: []string{"shop.example.com"},
		Storage: v1alpha1.StorageSpec{Postgres: v1alpha1.PostgresStorage{SecretRef: v1alpha1.SecretKeyReference{Name: "pg", Key: "uri"}}},
	}
}

// newSite creates a TrackingSite (and its pg Secret unless withoutSecret).
func newSite(t *testing.T, ns, name string, mutate ...func(*v1alpha1.TrackingSite)) *v1alpha1.TrackingSite {
	t.Helper()
	site := &v1alpha1.TrackingSite{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: siteSpec()}
	for _, m := range mutate {
		m(site)
	}
	if err := k8sClient.Create(context.Background(), site); err != nil {
		t.Fatalf("creating TrackingSite: %v", err)
	}
	return site
}

// metaDestination is a Destination of type meta for a site.
func metaDestination(ns, name, site, secret string) *v1alpha1.Destination {
	return &v1alpha1.Destination{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.DestinationSpec{
			SiteRef:              v1alpha1.LocalObjectReference{Name: site},
			Type:                 v1alpha1.DestinationMeta,
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: secret},
			Meta:                 &v1alpha1.MetaDestination{PixelID: "1234567890"},
		},
	}
}

// retentionPolicy is a RetentionPolicy for a site.
func retentionPolicy(ns, name, site string) *v1alpha1.RetentionPolicy {
	return &v1alpha1.RetentionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.RetentionPolicySpec{
			SiteRef:              v1alpha1.LocalObjectReference{Name: site},
			Schedule:             "17 3 * * *",
			MaxAgeDays:           395,
			AnonymizeIPAfterDays: ptr.To[int32](7),
		},
	}
}

// conditionOf reads an object's condition of type t (nil when absent).
func conditionOf(obj client.Object, t string) *metav1.Condition {
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *v1alpha1.TrackingSite:
		conds = o.Status.Conditions
	case *v1alpha1.Destination:
		conds = o.Status.Conditions
	case *v1alpha1.RetentionPolicy:
		conds = o.Status.Conditions
	}
	return meta.FindStatusCondition(conds, t)
}

// waitCondition waits until obj's condition t has status s (and reason, when
// given), and returns the condition.
func waitCondition(t *testing.T, obj client.Object, ct string, s metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	g := NewWithT(t)
	var got *metav1.Condition
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		got = conditionOf(obj, ct)
		g.Expect(got).NotTo(BeNil(), "condition %s not set", ct)
		g.Expect(got.Status).To(Equal(s), "condition %s: %s %s", ct, got.Reason, got.Message)
		if reason != "" {
			g.Expect(got.Reason).To(Equal(reason), "condition %s: %s", ct, got.Message)
		}
	}, timeout, interval).Should(Succeed())
	return got
}

// getObj waits until an object exists and returns it.
func getObj[T client.Object](t *testing.T, ns, name string, obj T) T {
	t.Helper()
	NewWithT(t).Eventually(func() error {
		return k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj)
	}, timeout, interval).Should(Succeed(), "waiting for %T %s/%s", obj, ns, name)
	return obj
}

// updateSite changes a site, read afresh, retrying when a status write of
// the operator got in between.
func updateSite(t *testing.T, site *v1alpha1.TrackingSite, mutate func(*v1alpha1.TrackingSite)) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(site), site); err != nil {
			return err
		}
		mutate(site)
		return k8sClient.Update(ctx, site)
	})
	if err != nil {
		t.Fatalf("updating TrackingSite %s: %v", site.Name, err)
	}
}

// waitReconciled waits until the operator has finished a pass over obj's
// current spec: status.observedGeneration and the Ready condition's equal
// obj's generation, and Ready has status s. A pass writes its status last,
// so every other write of that pass is in place when this returns.
func waitReconciled(t *testing.T, obj trackstackObject, s metav1.ConditionStatus) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		st := obj.GetObjectStatus()
		g.Expect(st.ObservedGeneration).To(Equal(obj.GetGeneration()), "status.observedGeneration")
		ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ReadyCondition)
		g.Expect(ready).NotTo(BeNil(), "no Ready condition")
		g.Expect(ready.ObservedGeneration).To(Equal(obj.GetGeneration()), "Ready's observedGeneration")
		g.Expect(ready.Status).To(Equal(s), "Ready: %s %s", ready.Reason, ready.Message)
	}, timeout, interval).Should(Succeed())
}
