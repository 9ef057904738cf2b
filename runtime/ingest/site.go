package ingest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/enrich"
	"github.com/trackstack/trackstack/runtime/sealing"
)

// Site is one site a collector serves: its runtime configuration and its
// keys. Keys left nil are read from Config.Site.KeysDir by LoadSiteKeys;
// tests and standalone mode inject them directly.
type Site struct {
	Config *config.Runtime
	// IngestKey is the bearer token of /v1/events for this site. Empty
	// disables the server API for the site (every request is 401).
	IngestKey []byte
	// SigningKey signs the visitor cookie so a client cannot choose its
	// visitor id. Empty leaves cookies unsigned.
	SigningKey []byte
	// VisitorSalt seeds the daily salt of cookieless visitor ids. Required:
	// it is also used when consent rules out the cookie.
	VisitorSalt []byte
	// IPSealingKey is the text of the key (package sealing) that encrypts
	// the raw client IP for sites with a destination that matches on it
	// (config.Destination.MatchesOnIP); other
	// sites do not need it.
	IPSealingKey []byte
}

// LoadSiteKeys fills the keys of s that are nil from the files in
// s.Config.Site.KeysDir (config.KeyIngest, KeySigning, KeyVisitorSalt,
// KeyIPSealing).
// A missing file leaves its key empty; other read errors are returned.
func LoadSiteKeys(s Site) (Site, error) {
	dir := s.Config.Site.KeysDir
	if dir == "" {
		return s, nil
	}
	for _, k := range []struct {
		name string
		dst  *[]byte
	}{
		{config.KeyIngest, &s.IngestKey},
		{config.KeySigning, &s.SigningKey},
		{config.KeyVisitorSalt, &s.VisitorSalt},
		{config.KeyIPSealing, &s.IPSealingKey},
	} {
		if *k.dst != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, k.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return s, fmt.Errorf("reading key %s of site %s: %w", k.name, s.Config.Site.Name, err)
		}
		*k.dst = bytes.TrimSpace(b)
	}
	return s, nil
}

// siteState is a Site prepared for serving.
type siteState struct {
	name       string
	cfg        *config.Runtime
	path       string // tracker path without trailing slash
	domains    []string
	ingestKey  []byte
	signingKey []byte
	salt       []byte
	anonymize  string
	cookieless bool
	consent    string
	firstParty string
	// ipSealing seals raw IPs for the destinations matching on them; nil
	// when the site has none, so no raw IP is kept.
	ipSealing *sealing.Key

	// macs pools HMAC-SHA256 states keyed with signingKey.
	macs sync.Pool

	// daySalt caches the cookieless salt of the current UTC day.
	daySalt atomic.Pointer[daySalt]

	browserLimit *rate.Limiter
	serverLimit  *rate.Limiter
	ipLimits     *ipLimiters

	browserMetrics sourceMetrics
	serverMetrics  sourceMetrics
}

type daySalt struct {
	day  int64
	salt []byte
}

func newSiteState(s Site, l Limits, m *metrics) (*siteState, error) {
	if s.Config == nil {
		return nil, errors.New("site without config")
	}
	cfg := s.Config
	name := cfg.Site.Name
	switch {
	case name == "":
		return nil, errors.New("site without name")
	case cfg.Tracker.Path == "" || cfg.Tracker.Path[0] != '/':
		return nil, fmt.Errorf("site %s: tracker path %q must start with /", name, cfg.Tracker.Path)
	case len(s.VisitorSalt) == 0:
		return nil, fmt.Errorf("site %s: no visitor salt (key %s)", name, config.KeyVisitorSalt)
	}
	domains := make([]string, 0, len(cfg.Site.Domains))
	for _, d := range cfg.Site.Domains {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			domains = append(domains, d)
		}
	}
	st := &siteState{
		name:           name,
		cfg:            cfg,
		path:           strings.TrimSuffix(cfg.Tracker.Path, "/"),
		domains:        domains,
		ingestKey:      s.IngestKey,
		signingKey:     s.SigningKey,
		salt:           s.VisitorSalt,
		anonymize:      cfg.Privacy.IPAnonymization,
		cookieless:     cfg.Tracker.Cookieless,
		consent:        cfg.Tracker.ConsentMode,
		firstParty:     strings.ToLower(cfg.Tracker.FirstPartyHost),
		browserLimit:   newLimiter(l.BrowserEventsPerSecond, l.BrowserBurst, MaxBrowserEvents),
		ipLimits:       newIPLimiters(l),
		serverLimit:    newLimiter(l.ServerEventsPerSecond, l.ServerBurst, MaxServerEvents),
		browserMetrics: m.forSite(name, sourceBrowser),
		serverMetrics:  m.forSite(name, sourceServer),
	}
	var err error
	if st.ipSealing, err = ipSealingKey(s); err != nil {
		return nil, err
	}
	st.macs.New = func() any { return hmac.New(sha256.New, st.signingKey) }
	if st.anonymize == "" {
		st.anonymize = enrich.AnonymizeTruncate
	}
	return st, nil
}

// originAllowed reports whether a browser Origin header names one of the
// site's domains or a subdomain of one.
func (s *siteState) originAllowed(origin string) bool {
	host := enrich.Host(origin)
	if host == "" {
		return false
	}
	for _, d := range s.domains {
		if enrich.HostMatches(host, strings.TrimPrefix(d, "www.")) {
			return true
		}
	}
	return false
}

// saltFor returns the cookieless salt of the UTC day of t: an HMAC of the
// date under the site's visitor salt, so ids rotate at midnight UTC and no
// stored value can recompute yesterday's ids once the day has passed
// (the salt itself is never stored).
func (s *siteState) saltFor(day int64) []byte {
	if d := s.daySalt.Load(); d != nil && d.day == day {
		return d.salt
	}
	mac := hmac.New(sha256.New, s.salt)
	mac.Write([]byte("cookieless/" + time.Unix(day*secondsPerDay, 0).UTC().Format(time.DateOnly)))
	d := &daySalt{day: day, salt: mac.Sum(nil)}
	s.daySalt.Store(d)
	return d.salt
}

// keyMatches compares a bearer token in constant time.
func (s *siteState) keyMatches(token []byte) bool {
	return len(s.ingestKey) > 0 && hmac.Equal(token, s.ingestKey)
}
