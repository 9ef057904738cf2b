package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// siteNotFound means the site a Destination or RetentionPolicy references
// does not exist (yet); a person must create it or fix siteRef.
type siteNotFound struct{ namespace, name string }

func (e *siteNotFound) Error() string {
	return fmt.Sprintf("TrackingSite %s not found in namespace %s; create it or fix spec.siteRef", e.name, e.namespace)
}

// getReferencedSite reads the site a Destination or RetentionPolicy references.
func getReferencedSite(ctx context.Context, c client.Client, namespace, name string) (*v1alpha1.TrackingSite, error) {
	site := &v1alpha1.TrackingSite{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, site); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &siteNotFound{namespace: namespace, name: name}
		}
		return nil, fmt.Errorf("reading TrackingSite %s: %w", name, err)
	}
	if !site.DeletionTimestamp.IsZero() {
		return nil, &siteNotFound{namespace: namespace, name: name}
	}
	return site, nil
}

// referrersOfSite maps a TrackingSite to the objects of list's kind that
// reference it through spec.siteRef.
func referrersOfSite(c client.Client, newList func() client.ObjectList) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, site client.Object) []reconcile.Request {
		list := newList()
		if err := c.List(ctx, list, client.InNamespace(site.GetNamespace()),
			client.MatchingFields{indexSiteRef: site.GetName()}); err != nil {
			log.FromContext(ctx).Error(err, "listing referrers of TrackingSite", "site", site.GetName())
			return nil
		}
		return requestsFor(list)
	}
}

// requestsFor turns every item of a list into a reconcile request.
func requestsFor(list client.ObjectList) []reconcile.Request {
	var reqs []reconcile.Request
	switch l := list.(type) {
	case *v1alpha1.DestinationList:
		for i := range l.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&l.Items[i])})
		}
	case *v1alpha1.RetentionPolicyList:
		for i := range l.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&l.Items[i])})
		}
	}
	return reqs
}

// outcomeOf maps the error that ended a pass to an outcome; ok is false for nil.
func outcomeOf(err error) (outcome, bool) {
	var sp *secretProblem
	var snf *siteNotFound
	switch {
	case err == nil:
		return outcome{}, false
	case asSecretProblem(err, &sp):
		return stalled(sp.reason, err.Error()), true
	case isOwnershipError(err):
		return stalled(v1alpha1.ReasonInvalidOwnership, err.Error()), true
	case asError(err, &snf):
		return stalled(v1alpha1.ReasonSiteNotFound, err.Error()), true
	case asError(err, new(*nameTooLong)):
		return stalled("NameTooLong", err.Error()), true
	}
	return failed(v1alpha1.ReasonApplyFailed, err.Error()), true
}

// nameTooLong means a child's name would exceed a Kubernetes limit.
type nameTooLong struct {
	kind, name string
	max        int
}

func (e *nameTooLong) Error() string {
	return fmt.Sprintf("%s name %q is %d characters, over the limit of %d; use shorter names", e.kind, e.name, len(e.name), e.max)
}
