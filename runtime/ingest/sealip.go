package ingest

import (
	"fmt"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/sealing"
)

// ipSealingKey returns the key that seals a site's raw IPs, or nil when no
// destination of the site needs them: then the raw IP is never kept. A
// site that needs one but has no valid key is a configuration error, not a
// silent loss of matching.
func ipSealingKey(s Site) (*sealing.Key, error) {
	if !s.Config.NeedsRawIP() {
		return nil, nil
	}
	if len(s.IPSealingKey) == 0 {
		return nil, fmt.Errorf("site %s: a destination that matches on the IP (meta, tiktok, pinterest) needs the IP sealing key (key %s)", s.Config.Site.Name, config.KeyIPSealing)
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
