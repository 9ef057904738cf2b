package controllers

import metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

// metav1LabelSelector selects exactly these labels.
func metav1LabelSelector(labels map[string]string) *metav1ac.LabelSelectorApplyConfiguration {
	return metav1ac.LabelSelector().WithMatchLabels(labels)
}
