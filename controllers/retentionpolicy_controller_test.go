package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

func TestRetentionPolicyCronJobAndStatus(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	newSite(t, ns, "shop")
	p := retentionPolicy(ns, "daily", "shop")
	p.Spec.TimeZone = "Europe/Berlin"
	g.Expect(k8sClient.Create(ctx, p)).To(Succeed())
	waitCondition(t, p, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)

	cj := getObj(t, ns, "shop-retention-daily", &batchv1.CronJob{})
	g.Expect(metav1.IsControlledBy(cj, p)).To(BeTrue())
	g.Expect(cj.Spec.Schedule).To(Equal("17 3 * * *"))
	g.Expect(*cj.Spec.TimeZone).To(Equal("Europe/Berlin"))
	g.Expect(cj.Spec.ConcurrencyPolicy).To(Equal(batchv1.ForbidConcurrent))
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	assertRestricted(t, pod)
	g.Expect(pod.Containers[0].Args).To(Equal([]string{"retention", "--config", "/etc/trackstack/config/config.yaml", "--policy=daily"}))
	g.Expect(pod.RestartPolicy).To(Equal(corev1.RestartPolicyNever))

	// Suspend propagates.
	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.Suspend = true
	g.Expect(k8sClient.Patch(ctx, p, patch)).To(Succeed())
	waitCondition(t, p, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSuspended)
	g.Eventually(func() bool {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(cj), cj)
		return *cj.Spec.Suspend
	}, timeout, interval).Should(BeTrue())

	// A Job of the CronJob succeeds (envtest runs no Job controller: we
	// write what it would): the status mirrors it.
	done := metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
	retentionJob(t, ns, "shop-retention-daily-1", cj, p, batchv1.JobComplete, done)
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
		g.Expect(p.Status.LastResult).To(Equal(v1alpha1.RetentionResultSucceeded))
		g.Expect(p.Status.LastSuccessfulTime).NotTo(BeNil())
		g.Expect(p.Status.LastSuccessfulTime.Time.Equal(done.Time)).To(BeTrue())
	}, timeout, interval).Should(Succeed())

	// A later Job fails: Ready=False with the Job named.
	time.Sleep(1100 * time.Millisecond) // creation timestamps have second resolution
	retentionJob(t, ns, "shop-retention-daily-2", cj, p, batchv1.JobFailed, metav1.Now())
	cond := waitCondition(t, p, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonJobFailed)
	g.Expect(cond.Message).To(ContainSubstring("retention Job shop-retention-daily-2 failed"))
	g.Expect(p.Status.LastResult).To(Equal(v1alpha1.RetentionResultFailed))
}

// retentionJob creates a finished Job as the CronJob controller would have.
func retentionJob(t *testing.T, ns, name string, cj *batchv1.CronJob, p *v1alpha1.RetentionPolicy, result batchv1.JobConditionType, at metav1.Time) *batchv1.Job {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	tru := true
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, Labels: cj.Spec.JobTemplate.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &tru}},
		},
		Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}
	g.Expect(k8sClient.Create(ctx, job)).To(Succeed())
	finishJob(t, job, result, at)
	return job
}
