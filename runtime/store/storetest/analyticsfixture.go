package storetest

import (
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

// The analytics fixture: site shop on day (UTC), three visitors, four
// sessions and an event without a session id, with page views, a click,
// bounces, known durations, sales and a refund; plus events just outside
// the day and another site's events at the same times, which no report of
// shop may count.
//
//	id  visitor session time   type        page             source               channel     campaign device/browser/os
//	a1  A       S1      10:00  pageview    /                google               paid_search spring   desktop Firefox Linux
//	a2  A       S1      10:02  pageview    /pricing         google               paid_search spring   desktop Firefox Linux
//	a3  A       S1      10:05  conversion  /checkout/done   google               paid_search spring   desktop Firefox Linux  purchase 100, occurred 10:04:30
//	a4  A       S2      14:00  pageview    /blog/a          news.ycombinator.com referral    -        mobile  Safari  iOS
//	b1  B       S3      11:00  pageview    /                (direct)             direct      -        mobile  Chrome  Android
//	b2  B       S3      11:01  click       /                (direct)             direct      -        mobile  Chrome  Android
//	b3  B       S3      11:02  pageview    /welcome/start   (direct)             direct      -        mobile  Chrome  Android
//	b4  B       S3      11:10  conversion  /welcome/done    (direct)             direct      -        mobile  Chrome  Android  signup, no value
//	c1  C       S4      12:00  pageview    /pricing         newsletter           email       spring   tablet  Safari  iPadOS
//	c2  C       S4      12:20  conversion  /checkout/done   newsletter           email       spring   tablet  Safari  iPadOS  purchase 50
//	c3  C       S4      12:30  conversion  /checkout/done   newsletter           email       spring   tablet  Safari  iPadOS  refund -30
//	c4  C       -       13:00  pageview    /pricing         (direct)             email       -        tablet  Safari  iPadOS  (relative URL)
//	b5  B       -       15:00  click       /                (direct)             direct      -        mobile  Chrome  Android
//
// Sessions: S1 3 events, 270 s (10:00 to 10:04:30, occurred times); S2 one
// page view, a bounce, 0 s; S3 4 events, 600 s; S4 3 events, 1800 s; c4 a
// session of its own, a bounce, 0 s; b5 another one, no bounce (no page
// view), 0 s.
var analyticsDay = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

type visit struct {
	visitor, session, url, referrer, utmSource, campaign, channel, device, browser, os string
}

func analyticsEvent(site, id string, v visit, at time.Duration, typ event.Type, name string, value *float64) event.Event {
	received := analyticsDay.Add(at)
	return event.Event{
		Site: site, EventID: id, Type: typ, Name: name, Source: event.SourceBrowser,
		Timestamp: received, ReceivedAt: received,
		VisitorID: v.visitor, SessionID: v.session, URL: v.url, Referrer: v.referrer,
		UTM:     event.UTM{Source: v.utmSource, Campaign: v.campaign},
		Channel: v.channel, Value: value,
		Device: event.Device{Type: v.device, Browser: v.browser, OS: v.os},
	}
}

func hm(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }

func amount(v float64) *float64 { return &v }

// analyticsFixture returns the fixture's events for site shop, those
// outside the day, and those of site other.
func analyticsFixture() []event.Event {
	const home = "https://shop.example.com"
	s1 := visit{"A", "S1", home + "/?ref=1", "", "google", "spring", event.ChannelPaidSearch, "desktop", "Firefox", "Linux"}
	s2 := visit{"A", "S2", home + "/blog/a", "https://news.ycombinator.com/item?id=1", "", "", event.ChannelReferral, "mobile", "Safari", "iOS"}
	s3 := visit{"B", "S3", home + "/", "", "", "", event.ChannelDirect, "mobile", "Chrome", "Android"}
	s4 := visit{"C", "S4", home + "/pricing", "", "newsletter", "spring", event.ChannelEmail, "tablet", "Safari", "iPadOS"}
	with := func(v visit, url string) visit { v.url = url; return v }
	noSession, noSession3 := s4, s3
	noSession3.session = ""
	noSession.session, noSession.url, noSession.utmSource, noSession.campaign = "", "/pricing?from=mail", "", ""

	a3 := analyticsEvent("shop", "a3", with(s1, home+"/checkout/done?order=1"), hm(10, 5), event.TypeConversion, "purchase", amount(100))
	a3.Timestamp = analyticsDay.Add(hm(10, 4) + 30*time.Second)
	events := []event.Event{
		analyticsEvent("shop", "a1", s1, hm(10, 0), event.TypePageview, "pageview", nil),
		analyticsEvent("shop", "a2", with(s1, home+"/pricing#plans"), hm(10, 2), event.TypePageview, "pageview", nil),
		a3,
		analyticsEvent("shop", "a4", s2, hm(14, 0), event.TypePageview, "pageview", nil),
		analyticsEvent("shop", "b1", s3, hm(11, 0), event.TypePageview, "pageview", nil),
		analyticsEvent("shop", "b2", s3, hm(11, 1), event.TypeClick, "signup_click", nil),
		analyticsEvent("shop", "b3", with(s3, home+"/welcome/start"), hm(11, 2), event.TypePageview, "pageview", nil),
		analyticsEvent("shop", "b4", with(s3, home+"/welcome/done"), hm(11, 10), event.TypeConversion, "signup", nil),
		analyticsEvent("shop", "c1", s4, hm(12, 0), event.TypePageview, "pageview", nil),
		analyticsEvent("shop", "c2", with(s4, home+"/checkout/done"), hm(12, 20), event.TypeConversion, "purchase", amount(50)),
		analyticsEvent("shop", "c3", with(s4, home+"/checkout/done"), hm(12, 30), event.TypeConversion, "refund", amount(-30)),
		analyticsEvent("shop", "c4", noSession, hm(13, 0), event.TypePageview, "pageview", nil),
		analyticsEvent("shop", "b5", with(noSession3, home+"/"), hm(15, 0), event.TypeClick, "signup_click", nil),
		// Just outside [day, day+24h): never counted.
		analyticsEvent("shop", "before", s1, -time.Microsecond, event.TypeConversion, "purchase", amount(1000)),
		analyticsEvent("shop", "after", s3, 24*time.Hour, event.TypePageview, "pageview", nil),
	}
	// Another site with the same visitor and session ids, pages and goal
	// names: isolation must not rest on ids being unique across sites.
	for _, e := range events[:13] {
		o := e
		o.Site = "other"
		if o.Value != nil {
			o.Value = amount(999)
		}
		events = append(events, o)
	}
	return events
}
