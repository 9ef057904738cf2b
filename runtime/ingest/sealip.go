package ingest

import (
	"fmt"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/sealing"
)

// ipMatchingTypes are the destination types whose platforms match
// conversions better with the client's real IP address.
var ipMatchingTypes = []string{v1alpha1.DestinationMeta, v1alpha1.DestinationTikTok}

// matchesOnIP reports whether any destination of cfg (paused ones too: they
// record now and may send later) is of a type that matches on the raw IP.
func matchesOnIP(cfg *config.Runtime) bool {
	for _, d := range cfg.Destinations {
		for _, t := range ipMatchingTypes {
			if d.Type == t {
				return true
			}
		}
	}
	return false
}

// ipSealingKey returns the key that seals a site's raw IPs, or nil when no
// destination of the site needs them: then the raw IP is never kept. A
// site that needs one but has no valid key is a configuration error, not a
// silent loss of matching.
func ipSealingKey(s Site) (*sealing.Key, error) {
	if !matchesOnIP(s.Config) {
		return nil, nil
	}
	if len(s.IPSealingKey) == 0 {
		return nil, fmt.Errorf("site %s: a meta or tiktok destination needs the IP sealing key (key %s)", s.Config.Site.Name, config.KeyIPSealing)
	}
	k, err := sealing.ParseKey(s.IPSealingKey)
	if err != nil {
		return nil, fmt.Errorf("site %s: key %s: %w", s.Config.Site.Name, config.KeyIPSealing, err)
	}
	return k, nil
}

// sealIP sets ev.RawIPSealed from ev.RawIP when the site keeps raw IPs.
func (s *siteState) sealIP(ev *event.Event) {
	if s.ipSealing != nil && ev.RawIP != "" {
		ev.RawIPSealed = s.ipSealing.Seal([]byte(ev.RawIP))
	}
}
