package controllers

// Labels the operator puts on every object it creates. They are our own, never
// the user's app.kubernetes.io/instance (Argo CD would prune children
// carrying the parent's instance label).
const (
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelPartOf    = "app.kubernetes.io/part-of"

	// LabelSite names the TrackingSite an object belongs to.
	LabelSite = "trackstack.dev/site"
	// LabelDestination names the Destination a forwarder serves.
	LabelDestination = "trackstack.dev/destination"
	// LabelRetentionPolicy names the RetentionPolicy a CronJob (and its Jobs) runs.
	LabelRetentionPolicy = "trackstack.dev/retention-policy"
	// LabelSiteUID is the UID of the TrackingSite a purge Job was made for:
	// the Job outlives its site (it has no owner reference), so a Job left by
	// an earlier site of the same name is told apart from the current one's.
	LabelSiteUID = "trackstack.dev/site-uid"

	// ManagedBy is the value of LabelManagedBy on our objects; the operator's
	// caches only see objects carrying it.
	ManagedBy = "trackstack-operator"
)

// Components.
const (
	ComponentCollector = "collector"
	ComponentDashboard = "dashboard"
	ComponentForwarder = "forwarder"
	ComponentRetention = "retention"
	ComponentPurge     = "purge"
	ComponentKeys      = "keys"
	ComponentConfig    = "config"
)

// Annotations on pod templates whose change rolls the pods.
const (
	// AnnotationConfigHash is a hash of the runtime configuration the pods read.
	AnnotationConfigHash = "trackstack.dev/config-hash"
	// AnnotationSecretHash is a hash of the Secret keys the pods consume.
	AnnotationSecretHash = "trackstack.dev/secret-hash"
	// AnnotationKeys lists the keys of a generated Secret, so the operator can
	// tell from metadata alone (no Secret data in its cache) that none is missing.
	AnnotationKeys = "trackstack.dev/keys"
)

// siteLabels are the labels of an object belonging to a site's component.
func siteLabels(site, component string) map[string]string {
	return map[string]string{
		LabelName:      "trackstack",
		LabelPartOf:    "trackstack",
		LabelManagedBy: ManagedBy,
		LabelComponent: component,
		LabelSite:      site,
	}
}

// selectorLabels are the stable subset used in Deployment selectors
// (immutable once created, so never add to them).
func selectorLabels(site, component string) map[string]string {
	return map[string]string{
		LabelName:      "trackstack",
		LabelComponent: component,
		LabelSite:      site,
	}
}
