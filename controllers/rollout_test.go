package controllers

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestDeploymentWaiting judges rollouts from the status the Deployment
// controller writes, including the partial states envtest never shows: its
// stand-in controller jumps straight to "rolled out".
func TestDeploymentWaiting(t *testing.T) {
	// deployment is generation 4 of a Deployment of spec replicas, with the
	// status counts observed at generation observed.
	deployment := func(replicas *int32, observed int64, total, updated, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "shop-collector", Generation: 4},
			Spec:       appsv1.DeploymentSpec{Replicas: replicas},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: total,
				UpdatedReplicas: updated, ReadyReplicas: available, AvailableReplicas: available},
		}
	}
	three := ptr.To[int32](3)
	cases := []struct {
		name string
		d    *appsv1.Deployment
		want string // a part of the message; "" when rolled out
	}{
		{"rolled out", deployment(three, 4, 3, 3, 3), ""},
		{"replicas unset means one", deployment(nil, 4, 1, 1, 1), ""},
		{"scaled to zero", deployment(ptr.To[int32](0), 4, 0, 0, 0), ""},
		{"scaling down, surplus replicas of the new template", deployment(ptr.To[int32](1), 4, 3, 3, 3), ""},
		{"new spec not observed yet", deployment(three, 3, 3, 3, 3), "to observe its new spec"},
		{"observed generation far behind", deployment(three, 1, 3, 0, 3), "to observe its new spec"},
		{"some replicas updated", deployment(three, 4, 4, 1, 3), "1/3 replicas updated"},
		{"none updated", deployment(three, 4, 3, 0, 3), "0/3 replicas updated"},
		{"replicas unset, none updated", deployment(nil, 4, 1, 0, 1), "0/1 replicas updated"},
		{"all updated, old replicas still present", deployment(three, 4, 4, 3, 3), "1 old replicas pending termination"},
		{"old replicas still serving, new ones not available", deployment(three, 4, 5, 3, 3), "2 old replicas pending termination"},
		{"all updated, some not yet available", deployment(three, 4, 3, 3, 2), "2/3 replicas available"},
		{"all updated, none available", deployment(three, 4, 3, 3, 0), "0/3 replicas available"},
		{"replicas unset, not available", deployment(nil, 4, 1, 1, 0), "0/1 replicas available"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := deploymentWaiting(tc.d)
			switch {
			case tc.want == "" && got != "":
				t.Errorf("deploymentWaiting = %q, want rolled out", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("deploymentWaiting = %q, want a message with %q", got, tc.want)
			case tc.want != "" && !strings.Contains(got, tc.d.Name):
				t.Errorf("deploymentWaiting = %q does not name Deployment %s", got, tc.d.Name)
			}
		})
	}
}
