package controllers

import (
	"path"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// PurgeFinalizer holds a TrackingSite with deletionPolicy: Delete until the
// Job <site>-purge has deleted the site's data from the store.
const PurgeFinalizer = "trackstack.dev/purge-data"

// maxJobName is the longest Job name whose pods Kubernetes can label with
// it (label values stop at 63 characters).
const maxJobName = 63

// Purge Job limits: a few quick retries of a failed pod (a database that
// was restarting); a day for a site of billions of rows; and the finished
// Job kept a day for its logs. A failed Job expiring retries the purge.
const (
	purgeBackoffLimit     = 3
	purgeDeadlineSeconds  = 24 * 3600
	purgeTTLAfterFinished = 24 * 3600
)

// purgeLabels are the labels of a site's purge Job, its pod and its ConfigMap.
func purgeLabels(site *v1alpha1.TrackingSite) map[string]string {
	l := siteLabels(site.Name, ComponentPurge)
	l[LabelSiteUID] = string(site.UID)
	return l
}

// purgeArgs runs `trackstack purge` for the site, confirmed.
func purgeArgs(site string) []string {
	return []string{"purge", "--config", path.Join(config.ConfigDir, config.FileName), "--site=" + site, "--confirm-site=" + site}
}

// buildPurgeJob is the Job <site>-purge. It has no owner reference: a
// foreground deletion of the site (Argo CD's default) deletes everything the
// site owns while the finalizer still holds it, and the Job must survive
// that. For the same reason it reads its configuration from its own
// ConfigMap (buildPurgeConfigMap), not the site's <site>-runtime.
func buildPurgeJob(in siteInputs) *batchv1ac.JobApplyConfiguration {
	s := in.site
	labels := purgeLabels(s)
	container := runtimeContainer("purge", in.opts, purgeArgs(s.Name)).
		WithResources(resourcesOr(nil, "50m", "64Mi", "256Mi")).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(volStorage).WithMountPath(config.StorageDir).WithReadOnly(true))
	pod := podTemplate(labels, nil, []*corev1ac.ContainerApplyConfiguration{container},
		corev1ac.Volume().WithName(volConfig).
			WithConfigMap(corev1ac.ConfigMapVolumeSource().WithName(purgeName(s.Name)).WithDefaultMode(0o444)),
		secretVolume(volStorage, s.Spec.Storage.Postgres.SecretRef.Name, storageKey(s)),
		tmpVolume(),
	)
	pod.Spec.WithRestartPolicy(corev1.RestartPolicyNever)
	return batchv1ac.Job(purgeName(s.Name), s.Namespace).
		WithLabels(labels).
		WithSpec(batchv1ac.JobSpec().
			WithBackoffLimit(purgeBackoffLimit).
			WithActiveDeadlineSeconds(purgeDeadlineSeconds).
			WithTTLSecondsAfterFinished(purgeTTLAfterFinished).
			WithTemplate(pod))
}

// buildPurgeConfigMap is the ConfigMap <site>-purge the purge Job reads:
// the site's runtime configuration, owned by the Job so it goes with it.
// It blocks nothing: blockOwnerDeletion would need update on jobs/finalizers.
func buildPurgeConfigMap(site *v1alpha1.TrackingSite, jobName string, jobUID types.UID, data []byte) *corev1ac.ConfigMapApplyConfiguration {
	return corev1ac.ConfigMap(purgeName(site.Name), site.Namespace).
		WithLabels(purgeLabels(site)).
		WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion("batch/v1").WithKind("Job").WithName(jobName).WithUID(jobUID).
			WithController(true).WithBlockOwnerDeletion(false)).
		WithData(map[string]string{config.FileName: string(data)})
}

// checkPurgeName fails when the Job name would be too long.
func checkPurgeName(site string) error {
	if n := purgeName(site); len(n) > maxJobName {
		return errNameTooLong("Job", n, maxJobName)
	}
	return nil
}
