package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Condition types. They follow the kstatus conventions, so `kubectl wait
// --for=condition=Ready`, Flux and Argo CD understand every trackstack object.
const (
	// ReadyCondition is True when everything the object asks for exists and is
	// up to date, False when something blocks it, Unknown while in progress.
	ReadyCondition = "Ready"
	// ReconcilingCondition is True while the operator is rolling out a change.
	ReconcilingCondition = "Reconciling"
	// StalledCondition is True when progress needs a person: a missing Secret,
	// a missing site, an object of ours owned by someone else.
	StalledCondition = "Stalled"
)

// Condition reasons. They are public API: health checks and alerts match on them.
const (
	// ReasonSucceeded means the object is fully reconciled.
	ReasonSucceeded = "Succeeded"
	// ReasonNoPublicHost is a reason of Ready=True on a TrackingSite: its
	// collector and dashboard run and accept server-side events, but no host
	// publishes the collector to browsers (neither spec.tracker.firstPartyHost
	// nor spec.dashboard.host is set), so status.snippet is empty. It informs
	// and does not block: kubectl wait --for=condition=Ready, Flux (kstatus)
	// and Argo CD treat the site as ready, because a site fed only by its
	// backend through /v1/events needs no public host.
	ReasonNoPublicHost = "NoPublicHost"
	// ReasonProgressing means children were changed and are rolling out.
	ReasonProgressing = "Progressing"
	// ReasonSecretNotFound means a referenced Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretKeyMissing means a referenced Secret lacks a required key.
	ReasonSecretKeyMissing = "SecretKeyMissing"
	// ReasonSiteNotFound means spec.siteRef names no TrackingSite in the namespace.
	ReasonSiteNotFound = "SiteNotFound"
	// ReasonInvalidOwnership means an object with the name we need exists but
	// is not owned by this object; the operator will not take it over.
	ReasonInvalidOwnership = "InvalidOwnership"
	// ReasonNameTooLong means the name of an object the operator must create
	// (site name plus policy name) exceeds a Kubernetes limit; shorten them.
	ReasonNameTooLong = "NameTooLong"
	// ReasonDestinationNotReady means one of the site's Destinations is not Ready.
	ReasonDestinationNotReady = "DestinationNotReady"
	// ReasonApplyFailed means the API server refused a child object.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonSuspended means spec.suspend is true; nothing is changed.
	ReasonSuspended = "Suspended"
	// ReasonPaused means a Destination is paused (spec.paused); its forwarder is scaled to zero.
	ReasonPaused = "Paused"
	// ReasonForwarderNotReady means a Destination's forwarder runs its
	// current spec but its pod is not ready: its readiness probe fails,
	// most often because the platform rejects the credentials (the
	// forwarder's log has the platform's message) or the store is down.
	ReasonForwarderNotReady = "ForwarderNotReady"
	// ReasonJobFailed means the last retention Job failed.
	ReasonJobFailed = "JobFailed"
	// ReasonPurging is the reason of Ready=False (with Reconciling=True) on a
	// TrackingSite with deletionPolicy: Delete that is being deleted: the
	// operator stops the pods writing the site's data, then runs the Job
	// <site>-purge that deletes the data; the message says which step it is at.
	ReasonPurging = "Purging"
	// ReasonPurgeFailed means the Job <site>-purge failed (the message has the
	// Job's reason); the TrackingSite stays, held by its finalizer, with
	// Stalled=True. Deleting the Job makes the operator run a new one; the
	// failed Job also expires a day after it finished, which retries too.
	ReasonPurgeFailed = "PurgeFailed"
)

// ObjectStatus is the part of every status the operator maintains the same way.
type ObjectStatus struct {
	// ObservedGeneration is the metadata.generation the status describes. It
	// is -1 until the operator has looked at the object once.
	// +kubebuilder:default=-1
	// +optional
	ObservedGeneration int64 `json:"observedGeneration"`

	// Conditions are Ready, Reconciling and Stalled, in the kstatus sense.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// GetConditions returns the conditions; it lets helpers work on every kind.
func (s *ObjectStatus) GetConditions() []metav1.Condition { return s.Conditions }

// SetConditions replaces the conditions.
func (s *ObjectStatus) SetConditions(c []metav1.Condition) { s.Conditions = c }

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// SecretKeyReference names one key of a Secret in the same namespace.
type SecretKeyReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Key in the Secret's data. Defaults to "uri".
	// +kubebuilder:default=uri
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	Key string `json:"key,omitempty"`
}

// GetObjectStatus returns the common part of the TrackingSite's status.
func (in *TrackingSite) GetObjectStatus() *ObjectStatus { return &in.Status.ObjectStatus }

// GetObjectStatus returns the common part of the Destination's status.
func (in *Destination) GetObjectStatus() *ObjectStatus { return &in.Status.ObjectStatus }

// GetObjectStatus returns the common part of the RetentionPolicy's status.
func (in *RetentionPolicy) GetObjectStatus() *ObjectStatus { return &in.Status.ObjectStatus }
