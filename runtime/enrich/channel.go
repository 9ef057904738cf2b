package enrich

import (
	"strings"

	"github.com/trackstack/trackstack/runtime/event"
)

// Touch is what an event says about how the visitor arrived.
type Touch struct {
	// Referrer is the full referring URL (document.referrer).
	Referrer string
	UTM      event.UTM
	ClickIDs map[string]string
	// SiteDomains are the site's own hosts: a referrer on one of them (or a
	// subdomain) is internal navigation, not an acquisition source.
	SiteDomains []string
}

// Click ids by the kind of ad network that appends them.
var (
	paidSearchClickIDs = []string{"gclid", "gbraid", "wbraid", "msclkid"}
	paidSocialClickIDs = []string{"fbclid", "ttclid", "li_fat_id", "twclid", "epik"}
)

// Classify returns the acquisition channel of t (one of the event.Channel*
// constants) and whether t carried any acquisition signal at all: an ad click
// id, a UTM parameter or an external referrer. Without a signal the channel is
// direct, and a caller that knows the session's channel should prefer that
// one: an internal page view mid-session is not a direct visit.
//
// The order follows the common analytics conventions: click ids first (they
// prove an ad click), then utm_medium (the marketer's own label, refined by
// utm_source), then the referrer host.
func Classify(t Touch) (channel string, signalled bool) {
	for _, k := range paidSearchClickIDs {
		if t.ClickIDs[k] != "" {
			return event.ChannelPaidSearch, true
		}
	}
	for _, k := range paidSocialClickIDs {
		if t.ClickIDs[k] != "" {
			return event.ChannelPaidSocial, true
		}
	}
	if ch := fromUTM(t.UTM); ch != "" {
		return ch, true
	}
	if app, ok := strings.CutPrefix(t.Referrer, "android-app://"); ok {
		// Android apps send their package name as the referrer.
		app, _, _ = strings.Cut(app, "/")
		if ch, ok := appChannels[strings.ToLower(app)]; ok {
			return ch, true
		}
		return event.ChannelReferral, true
	}
	host := Host(t.Referrer)
	if host == "" || isOwnHost(host, t.SiteDomains) {
		if t.UTM != (event.UTM{}) {
			// UTM parameters without a known medium or source still name a
			// campaign: someone linked here on purpose.
			return event.ChannelReferral, true
		}
		return event.ChannelDirect, false
	}
	switch {
	case isWebmail(host):
		return event.ChannelEmail, true
	case isSearchHost(host):
		return event.ChannelOrganicSearch, true
	case isSocialHost(host):
		return event.ChannelOrganicSocial, true
	}
	return event.ChannelReferral, true
}

// fromUTM classifies by utm_medium and utm_source; "" when they say nothing
// conclusive.
func fromUTM(u event.UTM) string {
	medium := strings.ToLower(strings.TrimSpace(u.Medium))
	source := strings.ToLower(strings.TrimSpace(u.Source))
	switch medium {
	case "cpc", "ppc", "paid", "paidsearch", "paid_search", "paid-search", "sem", "search_ads":
		if isSocialSource(source) {
			return event.ChannelPaidSocial
		}
		return event.ChannelPaidSearch
	case "paid_social", "paidsocial", "paid-social", "social_paid", "social-paid", "cpm_social":
		return event.ChannelPaidSocial
	case "email", "e-mail", "e_mail", "mail", "newsletter":
		return event.ChannelEmail
	case "social", "social-network", "social_network", "social-media", "social_media", "sm", "organic_social", "organic-social":
		return event.ChannelOrganicSocial
	case "organic":
		if isSocialSource(source) {
			return event.ChannelOrganicSocial
		}
		return event.ChannelOrganicSearch
	case "referral", "link":
		return event.ChannelReferral
	}
	switch {
	case source == "":
		return ""
	case strings.Contains(source, "mail") || strings.Contains(source, "newsletter"):
		return event.ChannelEmail
	case isSearchSource(source):
		return event.ChannelOrganicSearch
	case isSocialSource(source):
		return event.ChannelOrganicSocial
	}
	return ""
}

// Host returns the lower-cased host of a URL without port, userinfo or a
// leading "www.", or "" when raw has none. It is deliberately more lenient
// and cheaper than url.Parse: referrers are classified, not fetched.
func Host(raw string) string {
	s := raw
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	} else if strings.HasPrefix(s, "//") {
		s = s[2:]
	} else {
		return ""
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i >= 0 {
			return strings.ToLower(s[1:i])
		}
		return ""
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, ".")
	s = lowerASCII(s)
	return strings.TrimPrefix(s, "www.")
}

// lowerASCII lower-cases s, allocating only when s has an upper-case letter.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// HostMatches reports whether host equals domain or is a subdomain of it.
func HostMatches(host, domain string) bool {
	if len(host) == len(domain) {
		return strings.EqualFold(host, domain)
	}
	return len(host) > len(domain) && host[len(host)-len(domain)-1] == '.' &&
		strings.EqualFold(host[len(host)-len(domain):], domain)
}

func isOwnHost(host string, domains []string) bool {
	for _, d := range domains {
		if HostMatches(host, strings.TrimPrefix(d, "www.")) {
			return true
		}
	}
	return false
}

// Search engines: hosts matched as the domain or any subdomain, and brands
// matched as a label of the host, because they run a domain per country
// (google.co.uk, yandex.ru, search.yahoo.co.jp).
var (
	searchDomains = []string{
		"bing.com", "duckduckgo.com", "baidu.com", "ecosia.org", "search.brave.com",
		"startpage.com", "qwant.com", "naver.com", "seznam.cz", "sogou.com", "so.com",
		"ask.com", "search.aol.com", "yahoo.com", "kagi.com", "daum.net", "msn.com",
		"petalsearch.com", "mojeek.com", "search.lilo.org",
	}
	searchBrands = []string{"google", "yandex", "yahoo", "bing", "baidu"}

	socialDomains = []string{
		"facebook.com", "fb.com", "fb.me", "messenger.com", "instagram.com", "t.co",
		"twitter.com", "x.com", "linkedin.com", "lnkd.in", "reddit.com", "redd.it",
		"tiktok.com", "youtube.com", "youtu.be", "snapchat.com", "threads.net",
		"threads.com", "bsky.app", "mastodon.social", "tumblr.com", "vk.com", "ok.ru",
		"quora.com", "whatsapp.com", "wa.me", "t.me", "telegram.org", "discord.com",
		"news.ycombinator.com", "weibo.com", "xing.com", "medium.com", "line.me",
	}
	socialBrands = []string{"pinterest", "facebook"}

	// Webmail clients; a referrer from one of them is an email click.
	webmailDomains = []string{
		"mail.google.com", "outlook.live.com", "outlook.office.com", "outlook.office365.com",
		"mail.yahoo.com", "mail.aol.com", "mail.proton.me", "mail.zoho.com", "mail.yandex.ru",
		"e.mail.ru", "mail.gmx.net", "navigator.gmx.net", "web.de", "mail.163.com",
	}

	// Android apps by package name, as they appear in android-app:// referrers.
	appChannels = map[string]string{
		"com.google.android.gm":                   event.ChannelEmail,
		"com.microsoft.office.outlook":            event.ChannelEmail,
		"com.yahoo.mobile.client.android.mail":    event.ChannelEmail,
		"com.google.android.googlequicksearchbox": event.ChannelOrganicSearch,
		"com.facebook.katana":                     event.ChannelOrganicSocial,
		"com.facebook.orca":                       event.ChannelOrganicSocial,
		"com.instagram.android":                   event.ChannelOrganicSocial,
		"com.linkedin.android":                    event.ChannelOrganicSocial,
		"com.twitter.android":                     event.ChannelOrganicSocial,
		"com.reddit.frontpage":                    event.ChannelOrganicSocial,
		"com.pinterest":                           event.ChannelOrganicSocial,
		"com.zhiliaoapp.musically":                event.ChannelOrganicSocial,
		"org.telegram.messenger":                  event.ChannelOrganicSocial,
		"com.whatsapp":                            event.ChannelOrganicSocial,
	}

	searchSources = []string{
		"google", "bing", "yahoo", "duckduckgo", "baidu", "yandex", "ecosia", "brave",
		"startpage", "qwant", "naver", "seznam", "sogou", "ask", "aol", "kagi", "msn",
	}
	socialSources = []string{
		"facebook", "fb", "ig", "instagram", "meta", "twitter", "x", "linkedin",
		"pinterest", "reddit", "tiktok", "youtube", "snapchat", "threads", "bluesky",
		"mastodon", "tumblr", "vk", "quora", "whatsapp", "telegram", "discord", "weibo",
		"xing", "line",
	}
)

func matchesAny(host string, domains []string) bool {
	for _, d := range domains {
		if HostMatches(host, d) {
			return true
		}
	}
	return false
}

func hasBrandLabel(host string, brands []string) bool {
	for len(host) > 0 {
		label := host
		if i := strings.IndexByte(host, '.'); i >= 0 {
			label, host = host[:i], host[i+1:]
		} else {
			host = ""
		}
		for _, b := range brands {
			if label == b {
				return true
			}
		}
	}
	return false
}

func isWebmail(host string) bool {
	return matchesAny(host, webmailDomains) ||
		strings.HasPrefix(host, "webmail.") || strings.HasPrefix(host, "mail.")
}

func isSearchHost(host string) bool {
	return matchesAny(host, searchDomains) || hasBrandLabel(host, searchBrands)
}

func isSocialHost(host string) bool {
	return matchesAny(host, socialDomains) || hasBrandLabel(host, socialBrands)
}

// sourceIs reports whether a utm_source names one of names, as a whole or as
// its first word ("google", "google.com", "facebook_ads", "ig-story").
func sourceIs(source string, names []string) bool {
	first := source
	if i := strings.IndexAny(source, "._- /"); i >= 0 {
		first = source[:i]
	}
	for _, n := range names {
		if source == n || first == n {
			return true
		}
	}
	return false
}

func isSearchSource(source string) bool { return sourceIs(source, searchSources) }
func isSocialSource(source string) bool { return sourceIs(source, socialSources) }
