package standalone

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/trackstack/trackstack/runtime/config"
)

// writeBanner tells a person what is running and how to use it. Secrets
// appear only when generated on this start; afterwards the banner names
// their files.
func writeBanner(w io.Writer, s *Server) {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	data := s.opts.DataDir
	plural := "s"
	if len(s.sites) == 1 {
		plural = ""
	}
	p("")
	p("trackstack standalone: %d site%s, data in %s (SQLite)", len(s.sites), plural, data)
	p("")
	p("  Demo page    %s/", s.url)
	password := fmt.Sprintf(`"$(cat %s)"`, shellQuote(filepath.Join(data, adminPasswordFile)))
	if s.keys.AdminFromEnv {
		password = `"$` + EnvAdminPassword + `"`
	}
	for i, rt := range s.sites {
		name := rt.Site.Name
		demo := s.url + "/sites/" + name + "/"
		if i == 0 {
			demo = s.url + "/"
		}
		ingestKey := fmt.Sprintf(`$(cat %s)`, shellQuote(filepath.Join(rt.Site.KeysDir, config.KeyIngest)))
		if s.keys.IngestFromEnv {
			ingestKey = "$" + EnvIngestKey
		}
		p("")
		p("  Site %s (consent %s)", name, rt.Tracker.ConsentMode)
		p("    demo       %s", demo)
		p("    snippet    %s", config.Snippet(s.url, strings.TrimSuffix(rt.Tracker.Path, "/"), name))
		p("    keys       %s", rt.Site.KeysDir)
		p("    events     curl -u admin:%s '%s/api/v1/sites/%s/events?limit=10'", password, s.url, name)
		p("    send       curl -H \"Authorization: Bearer %s\" -H 'Content-Type: application/json' \\", ingestKey)
		p(`                 -d '{"site": "%s", "events": [{"event_id": "order-1", "type": "conversion", "name": "purchase", "timestamp": "'$(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ)'", "value": 9.5, "currency": "EUR"}]}' \`, name)
		p("                 %s/v1/events", s.url)
	}
	p("")
	p("  Health       %s/healthz  %s/readyz  %s/metrics", s.url, s.url, s.url)
	if s.keys.AdminFromEnv {
		p("  Admin        user admin, password from %s", EnvAdminPassword)
	} else {
		p("  Admin        user admin, password in %s", filepath.Join(data, adminPasswordFile))
	}
	if len(s.keys.Generated) > 0 {
		p("")
		p("  New keys were generated. They are shown this once (they stay in the files named):")
		for _, g := range s.keys.Generated {
			p("    %-28s %s", g.Label, g.Value)
		}
	}
	p("")
	io.WriteString(w, b.String()) //nolint:errcheck // nothing to do about a closed terminal
}

// shellQuote quotes a path for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
