package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// RetentionPolicySpec deletes and anonymizes a site's data on a schedule.
// +kubebuilder:validation:XValidation:rule="!has(self.anonymizeIPAfterDays) || self.anonymizeIPAfterDays <= self.maxAgeDays",message="anonymizeIPAfterDays must not exceed maxAgeDays"
// +kubebuilder:validation:XValidation:rule="!has(self.deletePIIAfterDays) || self.deletePIIAfterDays <= self.maxAgeDays",message="deletePIIAfterDays must not exceed maxAgeDays"
type RetentionPolicySpec struct {
	// SiteRef names the TrackingSite, in the same namespace, whose data the policy governs. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="siteRef is immutable: create a new RetentionPolicy for another site"
	SiteRef LocalObjectReference `json:"siteRef"`

	// Schedule is a cron schedule with five fields (minute hour day-of-month
	// month day-of-week), e.g. "17 3 * * *", or a macro such as @daily.
	// Defaults to "17 3 * * *".
	// +kubebuilder:default="17 3 * * *"
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule="self.matches('^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9*/,-]+ [0-9*/,-]+ [0-9*/,?LW-]+ [0-9A-Za-z*/,-]+ [0-9A-Za-z*/,?L#-]+)$')",message="schedule must be five cron fields separated by single spaces, such as \"17 3 * * *\", or a macro such as @daily"
	// +optional
	Schedule string `json:"schedule,omitempty"`

	// TimeZone is the IANA time zone the schedule is read in, e.g. Europe/Berlin. Defaults to UTC.
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_+/-]+$`
	// +optional
	TimeZone string `json:"timeZone,omitempty"`

	// MaxAgeDays deletes events older than this many days. Defaults to 395
	// (13 months, enough for year-over-year reports).
	// +kubebuilder:default=395
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3650
	// +optional
	MaxAgeDays int32 `json:"maxAgeDays,omitempty"`

	// AnonymizeIPAfterDays replaces stored IP addresses with their anonymized
	// form after this many days. Unset: IPs are kept as the site stores them.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3650
	// +optional
	AnonymizeIPAfterDays *int32 `json:"anonymizeIPAfterDays,omitempty"`

	// DeletePIIAfterDays removes hashed emails, phone numbers and other
	// matching data after this many days. Unset: kept until the event is deleted.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3650
	// +optional
	DeletePIIAfterDays *int32 `json:"deletePIIAfterDays,omitempty"`

	// Suspend pauses the schedule; running jobs finish.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Retention job results.
const (
	RetentionResultSucceeded = "Succeeded"
	RetentionResultFailed    = "Failed"
)

// RetentionPolicyStatus is what the operator observed of a RetentionPolicy.
type RetentionPolicyStatus struct {
	ObjectStatus `json:",inline"`

	// LastScheduleTime is when the last retention Job was started.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`
	// LastSuccessfulTime is when a retention Job last completed successfully.
	// +optional
	LastSuccessfulTime *metav1.Time `json:"lastSuccessfulTime,omitempty"`
	// LastResult is Succeeded or Failed for the last finished Job.
	// +optional
	LastResult string `json:"lastResult,omitempty"`
}

// RetentionPolicy deletes, anonymizes and erases a site's data on a schedule.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tret;trets,categories=trackstack
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 21",message="a RetentionPolicy name is at most 21 characters: the CronJob <site>-retention-<name> must fit 52"
// +kubebuilder:printcolumn:name="Site",type=string,JSONPath=`.spec.siteRef.name`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Last Success",type=date,JSONPath=`.status.lastSuccessfulTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RetentionPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec RetentionPolicySpec `json:"spec,omitempty"`
	// +kubebuilder:default={observedGeneration:-1}
	Status RetentionPolicyStatus `json:"status,omitempty"`
}

// RetentionPolicyList is a list of RetentionPolicies.
// +kubebuilder:object:root=true
type RetentionPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RetentionPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RetentionPolicy{}, &RetentionPolicyList{})
}
