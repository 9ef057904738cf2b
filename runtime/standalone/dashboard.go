package standalone

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/trackstack/trackstack/runtime/dashboard"
	"github.com/trackstack/trackstack/runtime/dashboard/auth"
	"github.com/trackstack/trackstack/runtime/store"
)

// newDashboard is every site's dashboard on the standalone listener: each
// site signs in on its own (cookies named per site), with the admin
// password; sessions and CSRF tokens of one site are worthless for another.
func (s *Server) newDashboard() (http.Handler, error) {
	analytics, ok := s.store.(store.Analytics)
	if !ok {
		return nil, fmt.Errorf("the store cannot answer reports")
	}
	auditLog, ok := s.store.(store.AuditLog)
	if !ok {
		return nil, fmt.Errorf("the store keeps no audit log")
	}
	// One writer for every site: each entry carries its site.
	audit := &dashboard.StoreAudit{Log: auditLog, Logger: s.log}
	var (
		authns []*auth.Authenticator
		sites  []dashboard.Site
	)
	insecure := strings.HasPrefix(s.url, "http://")
	for _, rt := range s.sites {
		a, err := auth.New(auth.Options{
			Site: rt.Site.Name, KeysDir: rt.Site.KeysDir, Password: bytes.Clone(s.keys.AdminPassword),
			PublicURL: s.url, InsecureCookies: insecure, SharedHost: true,
			OIDC: auth.OIDCFromConfig(rt.Dashboard), Audit: audit, Logger: s.log,
		})
		if err != nil {
			return nil, fmt.Errorf("dashboard of site %s: %w", rt.Site.Name, err)
		}
		authns = append(authns, a)
		site := dashboard.SiteOf(rt)
		site.Demo = slices.Contains(s.demoSites, rt.Site.Name)
		sites = append(sites, site)
	}
	guard, err := auth.NewGuard(authns...)
	if err != nil {
		return nil, err
	}
	return dashboard.New(dashboard.Options{Sites: sites, Store: analytics, Audit: auditLog, Guard: guard, Logger: s.log}), nil
}
