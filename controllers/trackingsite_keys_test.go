package controllers

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/sealing"
)

// TestKeysSecretHasIPSealingKey checks that a new site's Secret gets the IP
// sealing key, and that a Secret from before that key existed gains it
// without any of its other keys changing.
func TestKeysSecretHasIPSealingKey(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t, true)
	createSecret(t, ns, "pg", map[string]string{"uri": "postgres://db"})
	site := newSite(t, ns, "sealing")
	waitCondition(t, site, v1alpha1.ReadyCondition, metav1.ConditionTrue, "")

	s := getObj(t, ns, "sealing-keys", &corev1.Secret{})
	first := s.Data[config.KeyIPSealing]
	_, err := sealing.ParseKey(first)
	g.Expect(err).NotTo(HaveOccurred(), "new Secret: the generated key is a usable sealing key")

	// A Secret written by an operator that did not know the key yet.
	older := []string{}
	for _, k := range config.GeneratedKeys {
		if k != config.KeyIPSealing {
			older = append(older, k)
		}
	}
	delete(s.Data, config.KeyIPSealing)
	s.Annotations[AnnotationKeys] = strings.Join(older, ",")
	g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	before := s.DeepCopy().Data

	g.Eventually(func() []byte {
		_ = k8sClient.Get(ctx, client.ObjectKeyFromObject(s), s)
		return s.Data[config.KeyIPSealing]
	}, timeout, interval).ShouldNot(BeEmpty())
	_, err = sealing.ParseKey(s.Data[config.KeyIPSealing])
	g.Expect(err).NotTo(HaveOccurred(), "added key is a usable sealing key")
	g.Expect(s.Data[config.KeyIPSealing]).NotTo(Equal(first), "a new key, not a remembered one")
	for k, v := range before {
		g.Expect(s.Data[k]).To(Equal(v), "key %s changed while the missing key was added", k)
	}
	g.Expect(s.Annotations[AnnotationKeys]).To(ContainSubstring(config.KeyIPSealing))
}
