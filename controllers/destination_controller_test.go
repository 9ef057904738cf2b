package controllers

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

func TestDestinationForwarder(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "shop")
	d := &v1alpha1.Destination{
		ObjectMeta: metav1.ObjectMeta{Name: "ads", Namespace: ns},
		Spec: v1alpha1.DestinationSpec{
			SiteRef:              v1alpha1.LocalObjectReference{Name: "shop"},
			Type:                 v1alpha1.DestinationGoogleAdsAPI,
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: "gads"},
			GoogleAdsAPI:         &v1alpha1.GoogleAdsDestination{CustomerID: "1234567890", ConversionActionID: "987"},
		},
	}
	g.Expect(k8sClient.Create(ctx, d)).To(Succeed())

	// Missing Secret: a condition names it and the keys it needs; no forwarder yet.
	cond := waitCondition(t, d, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	g.Expect(cond.Message).To(ContainSubstring("Secret gads not found"))
	g.Expect(cond.Message).To(ContainSubstring("developerToken"))
	// The site reflects its broken Destination.
	siteCond := waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonDestinationNotReady)
	g.Expect(siteCond.Message).To(ContainSubstring("Destination ads is not ready"))

	// A Secret lacking one key: the condition names that key.
	s := createSecret(t, ns, "gads", map[string]string{"clientID": "id", "clientSecret": "sec", "refreshToken": "rt"})
	cond = waitCondition(t, d, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretKeyMissing)
	g.Expect(cond.Message).To(Equal("credentials for googleAdsAPI: Secret gads has no key developerToken (or it is empty); add it"))

	// Complete Secret: Ready, and the forwarder mounts exactly those keys read-only.
	s.StringData = map[string]string{"developerToken": "dev-token-s3cr3t"}
	g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	waitCondition(t, d, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost)

	fwd := getObj(t, ns, "shop-fwd-ads", &appsv1.Deployment{})
	g.Expect(metav1.IsControlledBy(fwd, d)).To(BeTrue())
	g.Expect(fwd.Labels).To(HaveKeyWithValue(LabelDestination, "ads"))
	g.Expect(*fwd.Spec.Replicas).To(Equal(int32(1)))
	g.Expect(fwd.Spec.Strategy.Type).To(Equal(appsv1.RecreateDeploymentStrategyType))
	assertRestricted(t, fwd.Spec.Template.Spec)
	c := fwd.Spec.Template.Spec.Containers[0]
	g.Expect(c.Args).To(ContainElement("--destination=ads"))
	var creds *corev1.Volume
	for i, v := range fwd.Spec.Template.Spec.Volumes {
		if v.Name == volCredentials {
			creds = &fwd.Spec.Template.Spec.Volumes[i]
		}
	}
	g.Expect(creds).NotTo(BeNil())
	g.Expect(creds.Secret.SecretName).To(Equal("gads"))
	for _, v := range fwd.Spec.Template.Spec.Volumes {
		g.Expect(v.Name).NotTo(Equal(volKeys), "Google Ads never gets the site's keys")
	}
	g.Expect(creds.Secret.Items).To(HaveLen(4))
	var mounted bool
	for _, m := range c.VolumeMounts {
		if m.Name == volCredentials {
			mounted = m.ReadOnly && m.MountPath == config.CredentialsDir
		}
	}
	g.Expect(mounted).To(BeTrue(), "credentials mounted read-only at %s", config.CredentialsDir)

	// The site's runtime config lists the destination, without secrets.
	cm := getObj(t, ns, "shop-runtime", &corev1.ConfigMap{})
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(cm), cm)
		return cm.Data[config.FileName]
	}, timeout, interval).Should(ContainSubstring("conversionActionID: \"987\""))
	g.Expect(cm.Data[config.FileName]).NotTo(ContainSubstring("s3cr3t"), "no secret in the ConfigMap")

	// Rotating the Secret rolls the forwarder (pod template hash changes).
	before := fwd.Spec.Template.Annotations[AnnotationSecretHash]
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
	s.Data["refreshToken"] = []byte("rotated")
	g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(fwd), fwd)
		return fwd.Spec.Template.Annotations[AnnotationSecretHash]
	}, timeout, interval).ShouldNot(Equal(before))

	// Pausing scales the forwarder to zero and stays Ready (reason Paused).
	p := client.MergeFrom(d.DeepCopy())
	d.Spec.Paused = true
	g.Expect(k8sClient.Patch(ctx, d, p)).To(Succeed())
	waitCondition(t, d, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonPaused)
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(fwd), fwd)).To(Succeed())
	g.Expect(*fwd.Spec.Replicas).To(BeZero())
}

func TestDestinationWithoutSite(t *testing.T) {
	ns := newNamespace(t, true)
	createSecret(t, ns, "tg", map[string]string{"botToken": "123:abc"})
	d := &v1alpha1.Destination{
		ObjectMeta: metav1.ObjectMeta{Name: "alerts", Namespace: ns},
		Spec: v1alpha1.DestinationSpec{
			SiteRef:              v1alpha1.LocalObjectReference{Name: "later"},
			Type:                 v1alpha1.DestinationTelegram,
			CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: "tg"},
			Telegram:             &v1alpha1.TelegramDestination{ChatID: "-1001234567890"},
		},
	}
	NewWithT(t).Expect(k8sClient.Create(context.Background(), d)).To(Succeed())
	cond := waitCondition(t, d, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSiteNotFound)
	NewWithT(t).Expect(cond.Message).To(ContainSubstring("TrackingSite later not found"))

	// GitOps applies in any order: once the site appears the Destination heals.
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	newSite(t, ns, "later")
	waitCondition(t, d, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
}

// TestDestinationForwarderNotReady: a forwarder that rolled out but whose
// pod fails its readiness probe (the platform rejects the credentials)
// makes the Destination Ready=False with ForwarderNotReady, both when the
// pod was ready once and when none became ready before the deadline; a
// rollout still starting stays progressing.
func TestDestinationForwarderNotReady(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, false)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	newSite(t, ns, "shop")
	createSecret(t, ns, "meta", map[string]string{"accessToken": "tok"})
	d := metaDestination(ns, "capi", "shop", "meta")
	g.Expect(k8sClient.Create(ctx, d)).To(Succeed())

	fwd := &appsv1.Deployment{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-fwd-capi"}, fwd)
	}, timeout, interval).Should(Succeed())
	g.Expect(*fwd.Spec.ProgressDeadlineSeconds).To(Equal(int32(forwarderProgressDeadline)))
	// Meta matches on the IP: the forwarder gets the key that opens the
	// sealed IPs, and no other key of the site.
	var keysVol *corev1.Volume
	for i, v := range fwd.Spec.Template.Spec.Volumes {
		if v.Name == volKeys {
			keysVol = &fwd.Spec.Template.Spec.Volumes[i]
		}
	}
	g.Expect(keysVol).NotTo(BeNil())
	g.Expect(keysVol.Secret.SecretName).To(Equal("shop-keys"))
	g.Expect(keysVol.Secret.Items).To(Equal([]corev1.KeyToPath{{Key: config.KeyIPSealing, Path: config.KeyIPSealing}}))

	setStatus := func(available int32, progressingReason string) {
		t.Helper()
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(fwd), fwd)).To(Succeed())
		fwd.Status = appsv1.DeploymentStatus{
			ObservedGeneration: fwd.Generation, Replicas: 1, UpdatedReplicas: 1,
			ReadyReplicas: available, AvailableReplicas: available, UnavailableReplicas: 1 - available,
			Conditions: []appsv1.DeploymentCondition{{
				Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: progressingReason,
				LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
			}},
		}
		if progressingReason == "ProgressDeadlineExceeded" {
			fwd.Status.Conditions[0].Status = corev1.ConditionFalse
		}
		g.Expect(k8sClient.Status().Update(ctx, fwd)).To(Succeed())
	}

	// A pod of the new template starting: progressing, not failed.
	setStatus(0, "ReplicaSetUpdated")
	waitCondition(t, d, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, v1alpha1.ReasonProgressing)

	// Ready once: Ready.
	setStatus(1, "NewReplicaSetAvailable")
	waitCondition(t, d, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)

	// Its probe fails now: not ready, saying where to look.
	setStatus(0, "NewReplicaSetAvailable")
	cond := waitCondition(t, d, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonForwarderNotReady)
	g.Expect(cond.Message).To(ContainSubstring("readiness probe fails"))
	g.Expect(cond.Message).To(ContainSubstring("kubectl logs deployment/shop-fwd-capi"))

	// Recovered, then a new template that never became ready in time.
	setStatus(1, "NewReplicaSetAvailable")
	waitCondition(t, d, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
	setStatus(0, "ProgressDeadlineExceeded")
	waitCondition(t, d, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.ReasonForwarderNotReady)
}
