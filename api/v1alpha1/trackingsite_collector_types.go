package v1alpha1

import corev1 "k8s.io/api/core/v1"

// CollectorSpec configures the collector Deployment.
type CollectorSpec struct {
	// Replicas is the number of collector pods when autoscaling is unset. Defaults to 2.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Resources of the collector container. Defaults to 100m CPU / 128Mi requested, 512Mi limit.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// Autoscaling adds a HorizontalPodAutoscaler; it then owns the replica count.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// TrustedProxies are the CIDRs of the proxies in front of the collector
	// (Ingress controller, load balancer) whose X-Forwarded-For is believed,
	// so visitors' own IPs reach enrichment, anonymization and per-IP rate
	// limits. Defaults to the private ranges a cluster's proxies connect
	// from: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="each trusted proxy must be a CIDR such as 10.0.0.0/8"
	// +optional
	TrustedProxies []string `json:"trustedProxies,omitempty"`

	// Limits are the collector's rate limits. Each applies per collector
	// replica, so a site takes up to replicas times the limit. Over a limit
	// the collector answers 429 with Retry-After, except for bots, whose
	// excess events are dropped. Unset fields take their defaults, which
	// are flood guards above the design load, not quotas; 0 means unlimited.
	// +optional
	Limits *CollectorLimits `json:"limits,omitempty"`
}

// CollectorLimits are a collector replica's rate limits. Every field
// accepts 0, meaning unlimited.
type CollectorLimits struct {
	// ServerEventsPerSecond limits the events the server-side API
	// (POST /v1/events) accepts for the site, apart from browser traffic, so
	// a flood of page views never starves a backend's sales. Defaults to
	// 50000, the collector's design load; 0 means unlimited.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000000
	// +optional
	ServerEventsPerSecond *int32 `json:"serverEventsPerSecond,omitempty"`
	// ServerBurst is how many server events may arrive at once above
	// serverEventsPerSecond. Defaults to 100000; 0 means unlimited. A value
	// below one full request (500 events) is raised to 500.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000000
	// +optional
	ServerBurst *int32 `json:"serverBurst,omitempty"`
	// BrowserEventsPerSecond limits the browser events (tracker batches and
	// pixels) accepted for the site. Defaults to 100000; 0 means unlimited.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000000
	// +optional
	BrowserEventsPerSecond *int32 `json:"browserEventsPerSecond,omitempty"`
	// BrowserBurst is how many browser events may arrive at once above
	// browserEventsPerSecond. Defaults to 200000; 0 means unlimited. A value
	// below one full batch (50 events) is raised to 50.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000000
	// +optional
	BrowserBurst *int32 `json:"browserBurst,omitempty"`
	// IPRequestsPerSecond limits the browser requests (batches and pixels)
	// of one client IP; IPv6 addresses count by /64. Defaults to 20; 0 means
	// unlimited.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	IPRequestsPerSecond *int32 `json:"ipRequestsPerSecond,omitempty"`
	// IPBurst is how many browser requests one client IP may send at once
	// above ipRequestsPerSecond. Defaults to 60; 0 means unlimited.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000000
	// +optional
	IPBurst *int32 `json:"ipBurst,omitempty"`
	// BotEventsPerSecond is the pace above which one client IP is taken for
	// a script, not a person: its excess browser events are dropped and
	// counted as bots, with no error to the client. Defaults to 50; 0 turns
	// the rule off. Keep it well above what an office or a mobile carrier
	// puts behind one address.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	BotEventsPerSecond *int32 `json:"botEventsPerSecond,omitempty"`
}

// DefaultTrustedProxies are the ranges trusted when collector.trustedProxies is unset.
var DefaultTrustedProxies = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"}

// AutoscalingSpec configures a HorizontalPodAutoscaler on CPU.
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not exceed maxReplicas"
type AutoscalingSpec struct {
	// MinReplicas is the lower bound. Defaults to 2.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`
	// MaxReplicas is the upper bound.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MaxReplicas int32 `json:"maxReplicas"`
	// TargetCPUUtilizationPercentage is the average CPU use to aim for. Defaults to 70.
	// +kubebuilder:default=70
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty"`
}
