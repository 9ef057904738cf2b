package config

import (
	"strings"
	"testing"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

func oidcSite() *v1alpha1.TrackingSite {
	s := sampleSite()
	s.Spec.Dashboard.OIDC = &v1alpha1.DashboardOIDC{
		IssuerURL: "https://accounts.example.com", ClientID: "dash",
		ClientSecretRef: v1alpha1.OIDCClientSecretReference{Name: "oidc"},
		AllowedDomains:  []string{"example.com"},
	}
	return s
}

func TestRenderDashboardOIDC(t *testing.T) {
	tests := []struct {
		name string
		site *v1alpha1.TrackingSite
		opts RenderOptions
		want *Dashboard
	}{
		{name: "no OIDC leaves the section out", site: sampleSite(), want: nil},
		{name: "defaults resolved, secret at the pod's mount", site: oidcSite(), want: &Dashboard{OIDC: &OIDC{
			IssuerURL: "https://accounts.example.com", ClientID: "dash", ClientSecretFile: "/etc/trackstack/oidc/clientSecret",
			AllowedDomains: []string{"example.com"}, GroupsClaim: "groups",
		}}},
		{name: "named key and claim, standalone dir", site: func() *v1alpha1.TrackingSite {
			s := oidcSite()
			s.Spec.Dashboard.OIDC.ClientSecretRef.Key = "secret"
			s.Spec.Dashboard.OIDC.GroupsClaim = "roles"
			return s
		}(), opts: RenderOptions{OIDCDir: "/data/oidc"}, want: &Dashboard{OIDC: &OIDC{
			IssuerURL: "https://accounts.example.com", ClientID: "dash", ClientSecretFile: "/data/oidc/secret",
			AllowedDomains: []string{"example.com"}, GroupsClaim: "roles",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Render(tt.site, nil, nil, tt.opts)
			data, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(data)
			if err != nil {
				t.Fatalf("parsing what Render produced: %v\n%s", err, data)
			}
			if tt.want == nil {
				if back.Dashboard != nil || strings.Contains(string(data), "dashboard:") {
					t.Errorf("dashboard section rendered without OIDC:\n%s", data)
				}
				return
			}
			if got := back.Dashboard; got == nil || !equalOIDC(got.OIDC, tt.want.OIDC) {
				t.Errorf("dashboard = %+v, want %+v", got.OIDC, tt.want.OIDC)
			}
		})
	}
}

func equalOIDC(a, b *OIDC) bool {
	return a != nil && b != nil && a.IssuerURL == b.IssuerURL && a.ClientID == b.ClientID &&
		a.ClientSecretFile == b.ClientSecretFile && a.GroupsClaim == b.GroupsClaim &&
		strings.Join(a.AllowedEmails, ",") == strings.Join(b.AllowedEmails, ",") &&
		strings.Join(a.AllowedDomains, ",") == strings.Join(b.AllowedDomains, ",") &&
		strings.Join(a.AllowedGroups, ",") == strings.Join(b.AllowedGroups, ",")
}

func TestValidateDashboardOIDC(t *testing.T) {
	tests := []struct {
		name string
		edit func(*OIDC)
		want string
	}{
		{name: "no client secret file", edit: func(o *OIDC) { o.ClientSecretFile = "" }, want: "clientSecretFile"},
		{name: "nobody allowed", edit: func(o *OIDC) { o.AllowedDomains = nil }, want: "allows nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Render(oidcSite(), nil, nil, RenderOptions{})
			tt.edit(r.Dashboard.OIDC)
			if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
		})
	}
	if err := Render(oidcSite(), nil, nil, RenderOptions{}).Validate(); err != nil {
		t.Errorf("a valid OIDC config was refused: %v", err)
	}
}
