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

func withOIDC(s *v1alpha1.TrackingSite) {
	s.Spec.Dashboard.OIDC = &v1alpha1.DashboardOIDC{
		IssuerURL: "https://accounts.example.com", ClientID: "dash",
		ClientSecretRef: v1alpha1.OIDCClientSecretReference{Name: "oidc", Key: "secret"},
		AllowedDomains:  []string{"example.com"},
	}
}

func TestDashboardMountsTheOIDCClientSecret(t *testing.T) {
	cases := []struct {
		name      string
		mutate    func(*v1alpha1.TrackingSite)
		oidcHash  string
		wantMount bool
	}{
		{name: "no OIDC: no mount, the site's secret hash", mutate: nil},
		{name: "OIDC: the key mounted, its hash in the annotation", mutate: withOIDC, oidcHash: "h1", wantMount: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := siteInputs{site: testSite(tc.mutate), opts: Options{RuntimeImage: "img"}, configHash: "c", secretHash: "s", oidcSecretHash: tc.oidcHash}
			pod := buildDashboardDeployment(in).Spec.Template
			var vol *string
			for _, v := range pod.Spec.Volumes {
				if *v.Name == volOIDC {
					vol = v.Secret.SecretName
					if len(v.Secret.Items) != 1 || *v.Secret.Items[0].Key != "secret" {
						t.Errorf("OIDC volume items = %+v, want only key secret", v.Secret.Items)
					}
				}
			}
			mounted := false
			for _, m := range pod.Spec.Containers[0].VolumeMounts {
				if *m.Name == volOIDC {
					mounted = *m.MountPath == config.OIDCDir && *m.ReadOnly
				}
			}
			if tc.wantMount != (vol != nil && *vol == "oidc" && mounted) {
				t.Errorf("OIDC secret mounted = %v (volume %v), want %v", mounted, vol, tc.wantMount)
			}
			hash := pod.Annotations[AnnotationSecretHash]
			if tc.wantMount == (hash == "s") {
				t.Errorf("secret hash %q: with OIDC it must cover the client secret, without it stays the site's", hash)
			}
			other := in
			other.oidcSecretHash = "h2"
			if tc.wantMount && buildDashboardDeployment(other).Spec.Template.Annotations[AnnotationSecretHash] == hash {
				t.Errorf("a rotated OIDC client secret does not change the dashboard's secret hash")
			}
			col := buildCollectorDeployment(in).Spec.Template
			for _, v := range col.Spec.Volumes {
				if *v.Name == volOIDC {
					t.Errorf("the collector mounts the OIDC client secret")
				}
			}
		})
	}
}

func TestTrackingSiteOIDCSecret(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "sso", withOIDC)
	cond := waitCondition(t, site, v1alpha1.StalledCondition, metav1.ConditionTrue, v1alpha1.ReasonSecretNotFound)
	g.Expect(cond.Message).To(ContainSubstring("Secret oidc not found"))

	s := createSecret(t, ns, "oidc", map[string]string{"secret": "s1"})
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, v1alpha1.ReasonNoPublicHost)

	dash := getObj(t, ns, "sso-dashboard", &appsv1.Deployment{})
	var src *corev1.SecretVolumeSource
	for _, v := range dash.Spec.Template.Spec.Volumes {
		if v.Name == volOIDC {
			src = v.Secret
		}
	}
	g.Expect(src).NotTo(BeNil(), "the dashboard has no OIDC volume")
	g.Expect(src.SecretName).To(Equal("oidc"))

	cm := getObj(t, ns, runtimeConfigMapName("sso"), &corev1.ConfigMap{})
	rc, err := config.Parse([]byte(cm.Data[config.FileName]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rc.Dashboard.OIDC.ClientSecretFile).To(Equal(config.OIDCDir + "/secret"))

	// Rotating the client secret rolls the dashboard.
	before := dash.Spec.Template.Annotations[AnnotationSecretHash]
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
	s.Data["secret"] = []byte("s2")
	g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	g.Eventually(func() string {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(dash), dash)
		return dash.Spec.Template.Annotations[AnnotationSecretHash]
	}, timeout, interval).ShouldNot(Equal(before))
}
