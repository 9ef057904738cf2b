package controllers

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CacheOptions limits what the operator holds in memory: only the children
// carrying our managed-by label, and Secrets as metadata only (Secret reads
// go to the API server; see ClientOptions). With namespaces, only those.
func CacheOptions(namespaces []string) cache.Options {
	ours := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{LabelManagedBy: ManagedBy})}
	opts := cache.Options{
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}:                     ours,
			&corev1.Service{}:                        ours,
			&corev1.ConfigMap{}:                      ours,
			&autoscalingv2.HorizontalPodAutoscaler{}: ours,
			&policyv1.PodDisruptionBudget{}:          ours,
			&networkingv1.Ingress{}:                  ours,
			&batchv1.CronJob{}:                       ours,
			&batchv1.Job{}:                           ours,
			&corev1.Pod{}:                            ours,
		},
	}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}

// ClientOptions makes typed Secret reads bypass the cache, so the operator
// never caches Secret data of the whole cluster.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// Setup registers the three reconcilers with a manager.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options, metrics *Metrics) error {
	if opts.RuntimeImage == "" {
		opts.RuntimeImage = DefaultRuntimeImage
	}
	reader := mgr.GetAPIReader()
	site := &TrackingSiteReconciler{Client: mgr.GetClient(), APIReader: reader,
		Recorder: mgr.GetEventRecorder("trackstack-trackingsite"), Metrics: metrics, Options: opts}
	if err := site.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	dest := &DestinationReconciler{Client: mgr.GetClient(), APIReader: reader,
		Recorder: mgr.GetEventRecorder("trackstack-destination"), Metrics: metrics, Options: opts}
	if err := dest.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	policy := &RetentionPolicyReconciler{Client: mgr.GetClient(), APIReader: reader,
		Recorder: mgr.GetEventRecorder("trackstack-retentionpolicy"), Metrics: metrics, Options: opts}
	return policy.SetupWithManager(ctx, mgr)
}
