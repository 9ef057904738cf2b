package controllers

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// TestTrackingSitePurgeOnDelete follows a site with deletionPolicy: Delete
// through its deletion: writers stop first (a pod of the site holds the
// purge back), then the Job runs; a failed Job is PurgeFailed until it is
// deleted, the next one runs, and its success lets the site go.
func TestTrackingSitePurgeOnDelete(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	createSecret(t, ns, "meta-capi", map[string]string{"accessToken": "EAAB"})
	site := newSite(t, ns, "closing", func(s *v1alpha1.TrackingSite) { s.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete })
	g.Expect(k8sClient.Create(ctx, metaDestination(ns, "meta", "closing", "meta-capi"))).To(Succeed())
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")
	g.Expect(site.Finalizers).To(ContainElement(PurgeFinalizer))
	getObj(t, ns, "closing-fwd-meta", &appsv1.Deployment{})
	pod := writerPod(t, ns, "closing-collector-7d9f", "closing", ComponentCollector)

	g.Expect(k8sClient.Delete(ctx, site)).To(Succeed())
	for _, name := range []string{"closing-collector", "closing-dashboard", "closing-fwd-meta"} {
		waitGone(t, ns, name, &appsv1.Deployment{})
	}
	g.Eventually(func(g Gomega) {
		c := waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonPurging)
		g.Expect(c.Message).To(ContainSubstring("Pod closing-collector-7d9f"))
	}, timeout, interval).Should(Succeed())
	g.Expect(conditionOf(site, v1alpha1.ReconcilingCondition).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "closing-purge"}, &batchv1.Job{}))).
		To(BeTrue(), "the purge Job started while a writer was still running")

	g.Expect(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
	job := getObj(t, ns, "closing-purge", &batchv1.Job{})
	assertPurgeJob(t, job, site)
	assertPurgeConfig(t, job)
	cond := waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonPurging)
	g.Expect(cond.Message).To(ContainSubstring("Job closing-purge"))

	finishJob(t, job, batchv1.JobFailed, metav1.Now())
	cond = waitCondition(t, site, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonPurgeFailed)
	g.Expect(cond.Message).To(ContainSubstring("BackoffLimitExceeded"))
	g.Expect(cond.Message).To(ContainSubstring("Delete the Job"))
	g.Expect(site.Finalizers).To(ContainElement(PurgeFinalizer))

	// Deleting the failed Job runs a new one, with a ConfigMap of its own
	// (envtest has no garbage collector to remove the old Job's).
	g.Expect(k8sClient.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
	again := &batchv1.Job{}
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(job), again)).To(Succeed())
		g.Expect(again.UID).NotTo(Equal(job.UID))
	}, timeout, interval).Should(Succeed())
	assertPurgeConfig(t, again)
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonPurging)

	finishJob(t, again, batchv1.JobComplete, metav1.Now())
	waitGone(t, ns, "closing", &v1alpha1.TrackingSite{})
}

// TestTrackingSitePurgeIgnoresAnEarlierSitesJob: a finished purge Job left
// by an earlier site of the same name is removed and a new one runs; its
// success never releases the new site.
func TestTrackingSitePurgeIgnoresAnEarlierSitesJob(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "reused", func(s *v1alpha1.TrackingSite) { s.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete })
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")

	earlier := site.DeepCopy()
	earlier.UID = "0f0f0f0f-earlier-site"
	old := &batchv1.Job{}
	buildPurgeJobObject(t, earlier, old)
	g.Expect(k8sClient.Create(ctx, old)).To(Succeed())
	finishJob(t, old, batchv1.JobComplete, metav1.Now())

	g.Expect(k8sClient.Delete(ctx, site)).To(Succeed())
	job := &batchv1.Job{}
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(old), job)).To(Succeed())
		g.Expect(job.Labels[LabelSiteUID]).To(Equal(string(site.UID)))
	}, timeout, interval).Should(Succeed(), "a Job of this site replaces the earlier site's")
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(site), site)).To(Succeed(), "the earlier site's finished Job released this one")
	finishJob(t, job, batchv1.JobComplete, metav1.Now())
	waitGone(t, ns, "reused", &v1alpha1.TrackingSite{})
}

// TestTrackingSiteFinalizerFollowsDeletionPolicy: the finalizer comes and
// goes with spec.deletionPolicy, also while the site is being deleted; a
// missing storage Secret stalls the purge with a message saying so.
func TestTrackingSiteFinalizerFollowsDeletionPolicy(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	pg := createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "flip")
	waitReconciled(t, site, metav1.ConditionTrue)
	g.Expect(site.Finalizers).NotTo(ContainElement(PurgeFinalizer), "Retain is the default")

	hasFinalizer := func() bool {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(site), site)).To(Succeed())
		return slices.Contains(site.Finalizers, PurgeFinalizer)
	}
	updateSite(t, site, func(s *v1alpha1.TrackingSite) { s.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete })
	g.Eventually(hasFinalizer, timeout, interval).Should(BeTrue())
	updateSite(t, site, func(s *v1alpha1.TrackingSite) { s.Spec.DeletionPolicy = v1alpha1.DeletionPolicyRetain })
	g.Eventually(hasFinalizer, timeout, interval).Should(BeFalse())
	updateSite(t, site, func(s *v1alpha1.TrackingSite) { s.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete })
	g.Eventually(hasFinalizer, timeout, interval).Should(BeTrue())

	g.Expect(k8sClient.Delete(ctx, pg)).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, site)).To(Succeed())
	cond := waitCondition(t, site, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	g.Expect(cond.Message).To(ContainSubstring("Secret pg not found"))
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "flip-purge"}, &batchv1.Job{}))).To(BeTrue())

	// Retain during the deletion: the data stays and the site goes.
	updateSite(t, site, func(s *v1alpha1.TrackingSite) { s.Spec.DeletionPolicy = v1alpha1.DeletionPolicyRetain })
	waitGone(t, ns, "flip", &v1alpha1.TrackingSite{})
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "flip-purge"}, &batchv1.Job{}))).To(BeTrue())
}

// assertPurgeJob checks the Job the operator built for site.
func assertPurgeJob(t *testing.T, job *batchv1.Job, site *v1alpha1.TrackingSite) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(job.OwnerReferences).To(BeEmpty(), "the Job must survive a foreground deletion of its site")
	g.Expect(job.Labels).To(HaveKeyWithValue(LabelSiteUID, string(site.UID)))
	g.Expect(job.Labels).To(HaveKeyWithValue(LabelManagedBy, ManagedBy))
	g.Expect(*job.Spec.BackoffLimit).To(Equal(int32(purgeBackoffLimit)))
	pod := job.Spec.Template.Spec
	g.Expect(pod.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
	assertRestricted(t, pod)
	c := pod.Containers[0]
	g.Expect(c.Image).To(Equal("example.test/trackstack:test"))
	g.Expect(c.Args).To(Equal([]string{"purge", "--config", "/etc/trackstack/config/config.yaml", "--site=" + site.Name, "--confirm-site=" + site.Name}))
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	g.Expect(mounts).To(HaveKeyWithValue(config.ConfigDir, volConfig))
	g.Expect(mounts).To(HaveKeyWithValue(config.StorageDir, volStorage))
	g.Expect(mounts).NotTo(HaveKey(config.KeysDir), "the purge needs no keys")
	for _, v := range pod.Volumes {
		switch v.Name {
		case volConfig:
			g.Expect(v.ConfigMap.Name).To(Equal(site.Name + "-purge"))
		case volStorage:
			g.Expect(v.Secret.SecretName).To(Equal("pg"))
		}
	}
}

// assertPurgeConfig checks the ConfigMap the Job reads: the site's
// configuration, owned by that Job.
func assertPurgeConfig(t *testing.T, job *batchv1.Job) {
	t.Helper()
	g := NewWithT(t)
	cm := &corev1.ConfigMap{}
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(job), cm)).To(Succeed())
		g.Expect(metav1.IsControlledBy(cm, job)).To(BeTrue(), "ConfigMap owned by Job %s", job.UID)
	}, timeout, interval).Should(Succeed())
	rc, err := config.Parse([]byte(cm.Data[config.FileName]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rc.Site.Name + "-purge").To(Equal(job.Name))
	g.Expect(rc.Storage.DSNFile).To(Equal(config.StorageDir + "/uri"))
}

// buildPurgeJobObject fills job with what the operator would create for site.
func buildPurgeJobObject(t *testing.T, site *v1alpha1.TrackingSite, job *batchv1.Job) {
	t.Helper()
	ac := buildPurgeJob(siteInputs{site: site, opts: Options{RuntimeImage: "example.test/trackstack:test"}})
	job.Name, job.Namespace, job.Labels = *ac.Name, *ac.Namespace, ac.Labels
	pod := PurgePodSpec(site, Options{RuntimeImage: "example.test/trackstack:test"})
	job.Spec.Template.Labels = ac.Labels
	job.Spec.Template.Spec = podSpecOf(t, pod)
}

// podSpecOf converts a pod spec apply configuration to a pod spec.
func podSpecOf(t *testing.T, ac any) corev1.PodSpec {
	t.Helper()
	var spec corev1.PodSpec
	b, err := json.Marshal(ac)
	if err == nil {
		err = json.Unmarshal(b, &spec)
	}
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return spec
}

// writerPod creates a pod as a Deployment of the site would have.
func writerPod(t *testing.T, ns, name, site, component string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: siteLabels(site, component)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: component, Image: "example.test/trackstack:test"}}},
	}
	NewWithT(t).Expect(k8sClient.Create(context.Background(), p)).To(Succeed())
	return p
}

// waitGone waits until an object no longer exists.
func waitGone(t *testing.T, ns, name string, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj))
	}, timeout, interval).Should(BeTrue(), "%T %s still exists", obj, name)
}

// finishJob records a Job's result in its status, as the Job controller
// (which envtest lacks) would.
func finishJob(t *testing.T, job *batchv1.Job, result batchv1.JobConditionType, at metav1.Time) {
	t.Helper()
	start := metav1.NewTime(at.Add(-30 * time.Second))
	job.Status.StartTime = &start
	switch result {
	case batchv1.JobComplete:
		job.Status.CompletionTime = &at
		job.Status.Succeeded = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: at},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: at},
		}
	case batchv1.JobFailed:
		job.Status.Failed = 3
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: at},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: at},
		}
	}
	NewWithT(t).Expect(k8sClient.Status().Update(context.Background(), job)).To(Succeed())
}

// TestTrackingSitePurgeInADeletedNamespace: in a namespace being deleted no
// Job can start, so the site is let go without a purge instead of holding
// the namespace forever. (envtest has no namespace controller: the
// namespace stays Terminating and the test deletes the site itself, as
// that controller would.)
func TestTrackingSitePurgeInADeletedNamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "stranded", func(s *v1alpha1.TrackingSite) { s.Spec.DeletionPolicy = v1alpha1.DeletionPolicyDelete })
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")

	g.Expect(k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, site)).To(Succeed())
	waitGone(t, ns, "stranded", &v1alpha1.TrackingSite{})
	g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "stranded-purge"}, &batchv1.Job{}))).To(BeTrue())
}
