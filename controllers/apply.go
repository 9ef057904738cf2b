package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// applier applies desired children with server-side apply under one field
// manager. It only sends a request when the fields we own differ from what we
// want, so an idle cluster sees no writes from the operator.
type applier struct {
	client client.Client
	// reader reads uncached; used to confirm an object is really absent
	// before creating it (our caches only hold objects carrying our labels).
	reader       client.Reader
	fieldManager string
}

// applyChild applies ac as the object existing (an empty value of its type)
// named key, owned by owner. extract returns the fields our manager owns on a
// live object. It reports whether anything was written.
func applyChild[O client.Object, AC runtime.ApplyConfiguration](
	ctx context.Context, a *applier, owner metav1.Object, key types.NamespacedName,
	existing O, ac AC, extract func(O, string) (AC, error),
) (bool, error) {
	kind := fmt.Sprintf("%T", existing)
	err := a.client.Get(ctx, key, existing)
	switch {
	case apierrors.IsNotFound(err):
		// Not in our cache: either absent, or present without our labels.
		if err := a.reader.Get(ctx, key, existing); err == nil {
			if !metav1.IsControlledBy(existing, owner) {
				return false, errNotOwned(kindName(existing), key.Name)
			}
		} else if !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("reading %s %s: %w", kind, key.Name, err)
		}
	case err != nil:
		return false, fmt.Errorf("reading %s %s: %w", kind, key.Name, err)
	default:
		if !metav1.IsControlledBy(existing, owner) {
			return false, errNotOwned(kindName(existing), key.Name)
		}
		current, err := extract(existing, a.fieldManager)
		if err != nil {
			return false, fmt.Errorf("extracting our fields of %s %s: %w", kind, key.Name, err)
		}
		if equality.Semantic.DeepEqual(current, ac) {
			return false, nil
		}
	}
	if err := a.client.Apply(ctx, ac, client.FieldOwner(a.fieldManager), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("applying %s %s: %w", kindName(existing), key.Name, err)
	}
	return true, nil
}

// deleteChild deletes obj when it exists and owner controls it.
func deleteChild(ctx context.Context, c client.Client, owner metav1.Object, key types.NamespacedName, obj client.Object) (bool, error) {
	if err := c.Get(ctx, key, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if owner != nil && !metav1.IsControlledBy(obj, owner) {
		return false, nil
	}
	if err := c.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return true, nil
}

// kindName is the short Go type name of an object, e.g. Deployment.
func kindName(obj client.Object) string {
	s := fmt.Sprintf("%T", obj)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return s[i+1:]
		}
	}
	return s
}
