package standalone

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/trackstack/trackstack/runtime/demodata"
)

// demoMarker names the sites whose database holds generated demo traffic,
// one per line, so the dashboard keeps labelling it after restarts.
const demoMarker = "demo-data"

// seedDemo fills the first site with a month of demo traffic when the
// database was just created, and records it; it returns the sites with
// demo data (from earlier starts too).
func (s *Server) seedDemo(ctx context.Context, fresh bool) ([]string, error) {
	marker := filepath.Join(s.opts.DataDir, demoMarker)
	b, err := os.ReadFile(marker)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("while reading %s: %w", marker, err)
	}
	sites := strings.Fields(string(b))
	if !s.opts.DemoData || !fresh || len(s.sites) == 0 {
		return sites, nil
	}
	site := s.sites[0].Site.Name
	host := "localhost"
	if u, err := url.Parse(s.url); err == nil {
		host = u.Host
	}
	n, err := demodata.Generate(ctx, s.store, demodata.Options{Site: site, Host: host, Seed: 1})
	if err != nil {
		return nil, err
	}
	s.log.Info("generated a month of demo traffic", "site", site, "events", n)
	if !slices.Contains(sites, site) {
		sites = append(sites, site)
	}
	if err := os.WriteFile(marker, []byte(strings.Join(sites, "\n")+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("while writing %s: %w", marker, err)
	}
	return sites, nil
}
