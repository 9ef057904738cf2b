// Package enrich derives what the collector stores beside what a client sent:
// the device from the user agent, whether the client is a crawler, the
// acquisition channel, the anonymized IP and the hashed matching data.
//
// Everything here is pure or guarded by its own lock, so one instance of each
// type serves every request of a collector.
package enrich

import (
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/mileusna/useragent"
	"github.com/x-way/crawlerdetect"

	"github.com/trackstack/trackstack/runtime/event"
)

// Device types stored in event.Device.Type.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceBot     = "bot"
	DeviceOther   = "other"
)

// maxCachedUA bounds the length of a user agent kept in the cache: real
// browsers send 100-300 bytes, and caching a megabyte-long header from a
// hostile client would defeat the cache's memory bound.
const maxCachedUA = 512

// DefaultUACacheSize is the number of distinct user agents remembered. A site's
// traffic is dominated by a few thousand user agents, so a few thousand
// entries turn almost every parse into a map lookup.
const DefaultUACacheSize = 8192

// UA is what a user agent string says about the client.
type UA struct {
	Device event.Device
	// Bot is true for crawlers, headless browsers, HTTP libraries and
	// empty user agents.
	Bot bool
}

// UAParser parses user agents with github.com/mileusna/useragent (browser,
// OS, device class) and github.com/x-way/crawlerdetect (the CrawlerDetect
// list of thousands of crawler patterns). Both cost microseconds per string
// (the crawler regexp dominates), so results are kept in a bounded LRU cache.
type UAParser struct {
	crawlers *crawlerdetect.CrawlerDetect
	cache    *lru.Cache[string, UA]
}

// NewUAParser returns a parser caching up to cacheSize user agents
// (DefaultUACacheSize when cacheSize <= 0).
func NewUAParser(cacheSize int) *UAParser {
	if cacheSize <= 0 {
		cacheSize = DefaultUACacheSize
	}
	cache, err := lru.New[string, UA](cacheSize)
	if err != nil {
		// lru.New fails only for a non-positive size, excluded above.
		panic("enrich: creating user agent cache: " + err.Error())
	}
	return &UAParser{crawlers: crawlerdetect.New(), cache: cache}
}

// Parse returns what ua says about the client.
func (p *UAParser) Parse(ua string) UA {
	if len(ua) > maxCachedUA {
		return p.parse(ua)
	}
	if r, ok := p.cache.Get(ua); ok {
		return r
	}
	r := p.parse(ua)
	// The key is cloned because ua may be a view into a request buffer.
	p.cache.Add(strings.Clone(ua), r)
	return r
}

func (p *UAParser) parse(ua string) UA {
	if strings.TrimSpace(ua) == "" {
		return UA{Device: event.Device{Type: DeviceBot}, Bot: true}
	}
	u := useragent.Parse(ua)
	r := UA{Device: event.Device{Browser: u.Name, OS: u.OS}}
	switch {
	case u.Bot:
		r.Bot = true
	case u.Name == useragent.HeadlessChrome:
		// Headless browsers run the script, so only the user agent gives
		// them away.
		r.Bot = true
	default:
		r.Bot = p.crawlers.IsCrawler(ua)
	}
	switch {
	case r.Bot:
		r.Device.Type = DeviceBot
	case u.Tablet:
		r.Device.Type = DeviceTablet
	case u.Mobile:
		r.Device.Type = DeviceMobile
	case u.Desktop:
		r.Device.Type = DeviceDesktop
	default:
		r.Device.Type = DeviceOther
	}
	return r
}
