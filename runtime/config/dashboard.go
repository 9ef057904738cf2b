package config

import (
	"fmt"
	"path"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// OIDCDir is where the dashboard's OIDC client secret is mounted.
const OIDCDir = "/etc/trackstack/oidc"

// DefaultOIDCSecretKey is the key of the OIDC client secret when the site
// names none.
const DefaultOIDCSecretKey = "clientSecret"

// Dashboard configures the dashboard's sign-in.
type Dashboard struct {
	// OIDC enables sign-in with an OpenID Connect issuer; nil: the admin
	// password only.
	OIDC *OIDC `json:"oidc,omitempty"`
}

// OIDC is the dashboard's OpenID Connect client.
type OIDC struct {
	IssuerURL string `json:"issuerURL"`
	ClientID  string `json:"clientID"`
	// ClientSecretFile is the mounted file holding the client secret.
	ClientSecretFile string   `json:"clientSecretFile"`
	AllowedEmails    []string `json:"allowedEmails,omitempty"`
	AllowedDomains   []string `json:"allowedDomains,omitempty"`
	AllowedGroups    []string `json:"allowedGroups,omitempty"`
	// GroupsClaim is the ID-token claim listing groups, resolved (never empty).
	GroupsClaim string `json:"groupsClaim"`
}

// OIDCSecretKey is the key of the site's OIDC client Secret.
func OIDCSecretKey(o *v1alpha1.DashboardOIDC) string {
	return orDefault(o.ClientSecretRef.Key, DefaultOIDCSecretKey)
}

// renderDashboard resolves the dashboard section; nil when there is
// nothing to configure, so configs of sites without OIDC stay as they were.
func renderDashboard(d v1alpha1.DashboardSpec, oidcDir string) *Dashboard {
	o := d.OIDC
	if o == nil {
		return nil
	}
	return &Dashboard{OIDC: &OIDC{
		IssuerURL:        o.IssuerURL,
		ClientID:         o.ClientID,
		ClientSecretFile: path.Join(orDefault(oidcDir, OIDCDir), OIDCSecretKey(o)),
		AllowedEmails:    append([]string(nil), o.AllowedEmails...),
		AllowedDomains:   append([]string(nil), o.AllowedDomains...),
		AllowedGroups:    append([]string(nil), o.AllowedGroups...),
		GroupsClaim:      orDefault(o.GroupsClaim, "groups"),
	}}
}

// validate checks what OIDC sign-in cannot work without.
func (d *Dashboard) validate() error {
	if d == nil || d.OIDC == nil {
		return nil
	}
	o := d.OIDC
	switch {
	case o.IssuerURL == "" || o.ClientID == "" || o.ClientSecretFile == "":
		return fmt.Errorf("runtime config: dashboard.oidc needs issuerURL, clientID and clientSecretFile")
	case len(o.AllowedEmails)+len(o.AllowedDomains)+len(o.AllowedGroups) == 0:
		return fmt.Errorf("runtime config: dashboard.oidc allows nobody; set allowedEmails, allowedDomains or allowedGroups")
	}
	return nil
}
