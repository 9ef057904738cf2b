package standalone

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// reservedPaths are served by the standalone server itself; a tracker path
// under one of them would be shadowed.
var reservedPaths = []string{"/admin", "/api", "/demo", "/sites", "/v1", "/healthz", "/readyz", "/metrics"}

// validate checks what no single document shows: names usable as file
// names, and references that resolve within the files. The API server's
// schema checks are not repeated; config.Render resolves defaults.
func (res *Resources) validate() error {
	var errs []error
	add := func(kind, name string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s %s (%s): %s", kind, name, res.Source(kind, name), fmt.Sprintf(format, args...)))
	}
	if len(res.Sites) == 0 {
		errs = append(errs, errors.New("no TrackingSite in the files"))
	}
	sites := map[string]bool{}
	for _, s := range res.Sites {
		sites[s.Name] = true
		// Site names become directory names under --data and metric labels.
		if msgs := validation.IsDNS1123Label(s.Name); len(msgs) > 0 {
			add("TrackingSite", s.Name, "metadata.name: %s", strings.Join(msgs, "; "))
		}
		if p := s.Spec.Tracker.Path; p != "" {
			if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || p == "/" {
				add("TrackingSite", s.Name, "spec.tracker.path %q must start with / and not end with /", p)
			}
			for _, r := range reservedPaths {
				if p == r || strings.HasPrefix(p, r+"/") {
					add("TrackingSite", s.Name, "spec.tracker.path %q is taken by the standalone server (%s)", p, strings.Join(reservedPaths, ", "))
				}
			}
		}
	}
	for _, d := range res.Destinations {
		// Destination names become directory names of their credentials.
		if msgs := validation.IsDNS1123Subdomain(d.Name); len(msgs) > 0 {
			add("Destination", d.Name, "metadata.name: %s", strings.Join(msgs, "; "))
		}
		if !sites[d.Spec.SiteRef.Name] {
			add("Destination", d.Name, "spec.siteRef: no TrackingSite %q in the files", d.Spec.SiteRef.Name)
		}
		ref := d.Spec.CredentialsSecretRef.Name
		secret, ok := res.Secrets[ref]
		switch {
		case ref == "":
			add("Destination", d.Name, "spec.credentialsSecretRef.name is empty")
		case !ok:
			add("Destination", d.Name, "spec.credentialsSecretRef: no Secret %q in the files (add a `kind: Secret` document with stringData)", ref)
		default:
			for k := range secret {
				if msgs := validation.IsConfigMapKey(k); len(msgs) > 0 {
					add("Secret", ref, "key %q: %s", k, strings.Join(msgs, "; "))
				}
			}
		}
	}
	for _, p := range res.RetentionPolicies {
		if !sites[p.Spec.SiteRef.Name] {
			add("RetentionPolicy", p.Name, "spec.siteRef: no TrackingSite %q in the files", p.Spec.SiteRef.Name)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}
