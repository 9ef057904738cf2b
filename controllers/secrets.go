package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// checkSecretKeys reads a Secret uncached (the operator keeps no Secret data in
// memory) and checks that it holds every key. It returns a hash over those
// keys' values, which goes into pod templates so rotation rolls the pods.
func checkSecretKeys(ctx context.Context, r client.Reader, namespace, name string, keys []string) (string, error) {
	var s corev1.Secret
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return "", errSecretNotFound(namespace, name, keys)
		}
		return "", fmt.Errorf("reading Secret %s: %w", name, err)
	}
	var missing []string
	for _, k := range keys {
		if len(s.Data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "", errSecretKeyMissing(name, missing)
	}
	return hashSecretKeys(s.Data, keys), nil
}

// hashSecretKeys hashes the named keys' values in a stable order.
func hashSecretKeys(data map[string][]byte, keys []string) string {
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	h := sha256.New()
	for _, k := range sorted {
		fmt.Fprintf(h, "%s=%d:", k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// hashBytes is a short stable hash of some content.
func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}
