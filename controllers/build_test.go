package controllers

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// The builders are pure: spec in, apply configuration out. These tables
// check the decisions they make without an API server.

func testSite(mutate func(*v1alpha1.TrackingSite)) *v1alpha1.TrackingSite {
	s := &v1alpha1.TrackingSite{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "web", UID: "uid-1"}, Spec: siteSpec()}
	if mutate != nil {
		mutate(s)
	}
	return s
}

func TestCollectorReplicasAndAutoscaling(t *testing.T) {
	cases := []struct {
		name         string
		mutate       func(*v1alpha1.TrackingSite)
		wantReplicas *int32 // nil: left to the HPA
		wantMin      int32
		wantPDB      bool
	}{
		{"default two replicas", nil, ptr.To[int32](2), 2, true},
		{"one replica, no PDB", func(s *v1alpha1.TrackingSite) { s.Spec.Collector.Replicas = ptr.To[int32](1) }, ptr.To[int32](1), 1, false},
		{"autoscaling owns replicas", func(s *v1alpha1.TrackingSite) {
			s.Spec.Collector.Autoscaling = &v1alpha1.AutoscalingSpec{MaxReplicas: 8}
		}, nil, 2, true},
		{"autoscaling from one", func(s *v1alpha1.TrackingSite) {
			s.Spec.Collector.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 3}
		}, nil, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSite(tc.mutate)
			d := buildCollectorDeployment(siteInputs{site: s, opts: Options{RuntimeImage: "img"}})
			got := d.Spec.Replicas
			switch {
			case tc.wantReplicas == nil && got != nil:
				t.Errorf("replicas = %d, want unset (the HPA owns them)", *got)
			case tc.wantReplicas != nil && (got == nil || *got != *tc.wantReplicas):
				t.Errorf("replicas = %v, want %d", got, *tc.wantReplicas)
			}
			if m := collectorMinReplicas(s); m != tc.wantMin {
				t.Errorf("min replicas = %d, want %d", m, tc.wantMin)
			}
			if pdb := collectorMinReplicas(s) > 1; pdb != tc.wantPDB {
				t.Errorf("PDB wanted = %v, want %v", pdb, tc.wantPDB)
			}
			if s.Spec.Collector.Autoscaling != nil {
				hpa := buildCollectorHPA(siteInputs{site: s})
				if *hpa.Spec.MinReplicas != tc.wantMin || *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 70 {
					t.Errorf("HPA min %d target %d", *hpa.Spec.MinReplicas, *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization)
				}
			}
		})
	}
}

func TestForwarderMountsTheTypesKeys(t *testing.T) {
	site := testSite(nil)
	for typ, keys := range v1alpha1.CredentialKeys {
		t.Run(typ, func(t *testing.T) {
			d := &v1alpha1.Destination{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "web"},
				Spec: v1alpha1.DestinationSpec{Type: typ, CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: "creds"}}}
			dep := buildForwarderDeployment(forwarderInputs{dest: d, site: site, opts: Options{RuntimeImage: "img"}})
			for _, v := range dep.Spec.Template.Spec.Volumes {
				if *v.Name != volCredentials {
					continue
				}
				if len(v.Secret.Items) != len(keys) {
					t.Errorf("mounts %d keys, want %v", len(v.Secret.Items), keys)
				}
				return
			}
			t.Error("no credentials volume")
		})
	}
	paused := &v1alpha1.Destination{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.DestinationSpec{Type: "meta", Paused: true}}
	if r := *buildForwarderDeployment(forwarderInputs{dest: paused, site: site}).Spec.Replicas; r != 0 {
		t.Errorf("paused forwarder has %d replicas, want 0", r)
	}
}

func TestRetentionNamesAndResults(t *testing.T) {
	if err := checkRetentionName("shop", "daily"); err != nil {
		t.Errorf("short name rejected: %v", err)
	}
	if err := checkRetentionName("a-site-name-of-thirty-chars-xx", "and-a-long-policy-nm"); err == nil {
		t.Error("a CronJob name over 52 characters was accepted")
	}
	now := time.Now()
	job := func(name string, age time.Duration, cond batchv1.JobConditionType) batchv1.Job {
		j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(now.Add(-age))}}
		if cond != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, Reason: "R", Message: "m"}}
		}
		return j
	}
	cases := []struct {
		name       string
		jobs       []batchv1.Job
		wantResult string
		wantFailed bool
	}{
		{"no jobs", nil, "", false},
		{"running only", []batchv1.Job{job("a", time.Minute, "")}, "", false},
		{"newest finished wins", []batchv1.Job{job("old", time.Hour, batchv1.JobFailed), job("new", time.Minute, batchv1.JobComplete)},
			v1alpha1.RetentionResultSucceeded, false},
		{"newest failed", []batchv1.Job{job("old", time.Hour, batchv1.JobComplete), job("new", time.Minute, batchv1.JobFailed)},
			v1alpha1.RetentionResultFailed, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, msg := lastJobResult(tc.jobs)
			if res != tc.wantResult || (msg != "") != tc.wantFailed {
				t.Errorf("lastJobResult = %q, %q; want %q, failed=%v", res, msg, tc.wantResult, tc.wantFailed)
			}
		})
	}
}

func TestCollectorTrustedProxies(t *testing.T) {
	arg := func(s *v1alpha1.TrackingSite) string {
		for _, a := range buildCollectorDeployment(siteInputs{site: s}).Spec.Template.Spec.Containers[0].Args {
			if len(a) > 18 && a[:18] == "--trusted-proxies=" {
				return a[18:]
			}
		}
		return ""
	}
	if got := arg(testSite(nil)); got != "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7" {
		t.Errorf("default trusted proxies = %q", got)
	}
	own := testSite(func(s *v1alpha1.TrackingSite) { s.Spec.Collector.TrustedProxies = []string{"10.42.0.0/16"} })
	if got := arg(own); got != "10.42.0.0/16" {
		t.Errorf("trusted proxies = %q, want the spec's", got)
	}
}

func TestCollectorGCTuning(t *testing.T) {
	env := map[string]string{}
	for _, e := range buildCollectorDeployment(siteInputs{site: testSite(nil)}).Spec.Template.Spec.Containers[0].Env {
		env[*e.Name] = *e.Value
	}
	// Default limit 512Mi: GOMEMLIMIT is 90% of it, in bytes.
	if env["GOGC"] != "400" || env["GOMEMLIMIT"] != "483183819" {
		t.Errorf("GC env = %v", env)
	}
}
