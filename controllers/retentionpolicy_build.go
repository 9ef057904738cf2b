package controllers

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// maxCronJobName is the longest CronJob name Kubernetes accepts (its Jobs
// append an 11-character suffix and must stay within 63).
const maxCronJobName = 52

// retentionInputs is what the CronJob builder reads.
type retentionInputs struct {
	policy *v1alpha1.RetentionPolicy
	site   *v1alpha1.TrackingSite
	opts   Options
}

// retentionLabels are the labels of a policy's CronJob and of the Jobs it starts.
func retentionLabels(site, policy string) map[string]string {
	l := siteLabels(site, ComponentRetention)
	l[LabelRetentionPolicy] = policy
	return l
}

// buildRetentionCronJob is the CronJob <site>-retention-<policy>, running
// `trackstack retention` for the policy. Runs never overlap.
func buildRetentionCronJob(in retentionInputs) *batchv1ac.CronJobApplyConfiguration {
	p, s := in.policy, in.site
	labels := retentionLabels(s.Name, p.Name)
	schedule := p.Spec.Schedule
	if schedule == "" {
		schedule = config.DefaultRetentionSchedule
	}
	container := runtimeContainer("retention", in.opts, configArgs("retention", "--policy="+p.Name)).
		WithResources(resourcesOr(nil, "50m", "64Mi", "256Mi")).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(volStorage).WithMountPath(config.StorageDir).WithReadOnly(true))
	pod := podTemplate(labels, nil, []*corev1ac.ContainerApplyConfiguration{container},
		configVolume(s.Name),
		secretVolume(volStorage, s.Spec.Storage.Postgres.SecretRef.Name, storageKey(s)),
		tmpVolume(),
	)
	pod.Spec.WithRestartPolicy(corev1.RestartPolicyNever)
	spec := batchv1ac.CronJobSpec().
		WithSchedule(schedule).
		WithSuspend(p.Spec.Suspend).
		WithConcurrencyPolicy(batchv1.ForbidConcurrent).
		WithStartingDeadlineSeconds(3600).
		WithSuccessfulJobsHistoryLimit(3).
		WithFailedJobsHistoryLimit(3).
		WithJobTemplate(batchv1ac.JobTemplateSpec().
			WithLabels(labels).
			WithSpec(batchv1ac.JobSpec().
				WithBackoffLimit(2).
				WithActiveDeadlineSeconds(6 * 3600).
				WithTTLSecondsAfterFinished(7 * 24 * 3600).
				WithTemplate(pod)))
	if p.Spec.TimeZone != "" {
		spec.WithTimeZone(p.Spec.TimeZone)
	}
	return batchv1ac.CronJob(retentionName(s.Name, p.Name), p.Namespace).
		WithLabels(labels).
		WithOwnerReferences(ownerRef("RetentionPolicy", p.Name, p.UID)).
		WithSpec(spec)
}

// checkRetentionName fails when the CronJob name would be too long.
func checkRetentionName(site, policy string) error {
	if n := retentionName(site, policy); len(n) > maxCronJobName {
		return errNameTooLong("CronJob", n, maxCronJobName)
	}
	return nil
}

// lastJobResult finds the newest finished Job and reports its result.
func lastJobResult(jobs []batchv1.Job) (result, message string) {
	var newest *batchv1.Job
	for i := range jobs {
		j := &jobs[i]
		if jobFinished(j) == "" {
			continue
		}
		if newest == nil || j.CreationTimestamp.After(newest.CreationTimestamp.Time) {
			newest = j
		}
	}
	if newest == nil {
		return "", ""
	}
	res := jobFinished(newest)
	for _, c := range newest.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			return res, fmt.Sprintf("retention Job %s failed: %s %s", newest.Name, c.Reason, c.Message)
		}
	}
	return res, ""
}

// jobFinished is Succeeded or Failed for a finished Job, "" while it runs.
func jobFinished(j *batchv1.Job) string {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return v1alpha1.RetentionResultSucceeded
		case batchv1.JobFailed:
			return v1alpha1.RetentionResultFailed
		}
	}
	return ""
}
