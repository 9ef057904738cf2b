package controllers

import (
	"context"
	"testing"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// kstatusOf computes what Flux (kstatus) says of an object as stored.
func kstatusOf(t *testing.T, obj client.Object) status.Status {
	t.Helper()
	g := NewWithT(t)
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: m})
	g.Expect(err).NotTo(HaveOccurred())
	return res.Status
}

func TestKstatusConformance(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t, false)
	site := newSite(t, ns, "kstatus")

	// No Secret yet: stalled, which kstatus reports as Failed.
	waitCondition(t, site, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	g.Expect(kstatusOf(t, site)).To(Equal(status.FailedStatus))

	// Secret present, Deployments not rolled out: InProgress.
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	waitCondition(t, site, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonProgressing)
	g.Expect(kstatusOf(t, site)).To(Equal(status.InProgressStatus))

	// Rolled out: Current, also with the informational NoPublicHost (the
	// site sets no host, so browsers cannot reach it; its backend can).
	rollOutAll(t, ns)
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost)
	g.Eventually(func() status.Status { return kstatusOf(t, site) }, timeout, interval).Should(Equal(status.CurrentStatus))

	// A spec change not yet observed is InProgress again (generation > observedGeneration).
	touchSpec := site.DeepCopy()
	touchSpec.Spec.Domains = append(touchSpec.Spec.Domains, "www.example.com")
	g.Expect(k8sClient.Update(context.Background(), touchSpec)).To(Succeed())
	// The operator reacts quickly, so either it has not observed yet or it
	// is rolling the new config out: both must read as InProgress, never Current.
	g.Expect(kstatusOf(t, site)).To(Equal(status.InProgressStatus))
}

func TestKstatusOfNewObjectIsInProgress(t *testing.T) {
	// observedGeneration defaults to -1, so an object nobody has looked at
	// yet is InProgress even before the operator writes any condition. The
	// API server's answer to the create is the object as stored then, before
	// the operator can have written to it.
	g := NewWithT(t)
	ns := newNamespace(t, false)
	p := retentionPolicy(ns, "fresh", "no-such-site")
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(p)
	g.Expect(err).NotTo(HaveOccurred())
	obj := &unstructured.Unstructured{Object: m}
	obj.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("RetentionPolicy"))
	unstructured.RemoveNestedField(obj.Object, "status")
	g.Expect(k8sClient.Create(context.Background(), obj)).To(Succeed())
	og, found, err := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(found).To(BeTrue(), "status.observedGeneration is not defaulted: %v", obj.Object["status"])
	g.Expect(og).To(Equal(int64(-1)))
	res, err := status.Compute(obj)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Status).To(Equal(status.InProgressStatus), res.Message)

	// Then it ends Failed (stalled: its site does not exist).
	waitCondition(t, p, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSiteNotFound)
	g.Expect(kstatusOf(t, p)).To(Equal(status.FailedStatus))
}
