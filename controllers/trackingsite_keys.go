package controllers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// reconcileKeys makes sure the generated Secret <site>-keys exists with every
// key. Values come from crypto/rand once and are never rewritten: rotating
// them is a person's decision (delete the key, and only that key is made anew).
// The operator's cache holds Secret metadata only; the key names it needs to
// see are mirrored in an annotation.
func (run *siteRun) reconcileKeys(ctx context.Context) error {
	name := keysSecretName(run.site.Name)
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := run.r.Get(ctx, run.key(name), meta)
	if err == nil {
		if !metav1.IsControlledBy(meta, run.site) {
			return errNotOwned("Secret", name)
		}
		if keysComplete(meta.GetAnnotations()[AnnotationKeys]) {
			return nil
		}
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading Secret %s: %w", name, err)
	}
	return run.ensureKeys(ctx, name)
}

// keysComplete reports whether an AnnotationKeys value lists every generated key.
func keysComplete(annotation string) bool {
	have := strings.Split(annotation, ",")
	for _, k := range config.GeneratedKeys {
		if !slices.Contains(have, k) {
			return false
		}
	}
	return true
}

// ensureKeys creates the Secret, or adds the keys it lacks, reading it uncached.
func (run *siteRun) ensureKeys(ctx context.Context, name string) error {
	var s corev1.Secret
	err := run.r.APIReader.Get(ctx, run.key(name), &s)
	if apierrors.IsNotFound(err) {
		s = corev1.Secret{ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: run.site.Namespace, Labels: siteLabels(run.site.Name, ComponentKeys),
		}, Type: corev1.SecretTypeOpaque}
		if err := addMissingKeys(&s); err != nil {
			return err
		}
		if err := setControllerRef(&s, run.site); err != nil {
			return err
		}
		if err := run.r.Create(ctx, &s); err != nil {
			return fmt.Errorf("creating Secret %s: %w", name, err)
		}
		run.note(true, "Secret", name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading Secret %s: %w", name, err)
	}
	if !metav1.IsControlledBy(&s, run.site) {
		return errNotOwned("Secret", name)
	}
	orig := s.DeepCopy()
	if err := addMissingKeys(&s); err != nil {
		return err
	}
	if err := run.r.Patch(ctx, &s, client.MergeFrom(orig)); err != nil {
		return fmt.Errorf("adding keys to Secret %s: %w", name, err)
	}
	run.note(true, "Secret", name)
	return nil
}

// addMissingKeys generates the keys a Secret lacks and keeps the rest as they are.
func addMissingKeys(s *corev1.Secret) error {
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for _, k := range config.GeneratedKeys {
		if len(s.Data[k]) > 0 {
			continue
		}
		v, err := randomToken(32)
		if err != nil {
			return err
		}
		s.Data[k] = []byte(v)
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[AnnotationKeys] = strings.Join(config.GeneratedKeys, ",")
	return nil
}

// randomToken returns n random bytes from crypto/rand, base64url-encoded.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// setControllerRef makes site the controller owner of obj.
func setControllerRef(obj metav1.Object, site *v1alpha1.TrackingSite) error {
	t := true
	obj.SetOwnerReferences(append(obj.GetOwnerReferences(), metav1.OwnerReference{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "TrackingSite",
		Name: site.Name, UID: site.UID, Controller: &t, BlockOwnerDeletion: &t,
	}))
	return nil
}
