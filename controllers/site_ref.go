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

// getReferencedSite reads the site a Destination or RetentionPolicy references.
func getReferencedSite(ctx context.Context, c client.Client, namespace, name string) (*v1alpha1.TrackingSite, error) {
	site := &v1alpha1.TrackingSite{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, site); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, errSiteNotFound(namespace, name)
		}
		return nil, fmt.Errorf("reading TrackingSite %s: %w", name, err)
	}
	if !site.DeletionTimestamp.IsZero() {
		return nil, errSiteNotFound(namespace, name)
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
