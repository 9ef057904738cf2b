package store

import (
	"maps"

	"github.com/trackstack/trackstack/runtime/event"
)

// An event posted with the site's ingest key (source server) is never
// blocked by an anonymous browser event that took its event_id first: the
// tracker and the pixels share one event_id per conversion, and a site's
// backend often reports the same sale with the order's value and the
// buyer's matching data. Every store applies the same rule:
//
//   - browser, then server: the stored event becomes Supersede(server,
//     browser), and the server's Insert counts it as new;
//   - server, then anything, and browser, then browser: the later one is a
//     duplicate and changes nothing.
//
// The superseded event keeps the browser's ReceivedAt (when the event was
// first heard of, so it stays in its day), and takes a new place in the
// insertion order, as a newly stored event does.

// Supersedes reports whether an event of source incoming replaces a stored
// event of source stored with the same event_id.
func Supersedes(incoming, stored event.Source) bool {
	return incoming == event.SourceServer && stored == event.SourceBrowser
}

// Supersede returns the event stored when server arrives for the event_id
// that browser holds: the server event's fields win, and the browser's visit
// context (visitor, session, page, campaign, click ids, channel, device,
// consent, cookies, matching data) fills what the server event lacks, so
// the sale keeps its attribution.
func Supersede(server, browser event.Event) event.Event {
	e := server
	e.ReceivedAt = browser.ReceivedAt
	fill(&e.VisitorID, browser.VisitorID)
	fill(&e.SessionID, browser.SessionID)
	fill(&e.UserID, browser.UserID)
	fill(&e.URL, browser.URL)
	fill(&e.Referrer, browser.Referrer)
	if e.UTM == (event.UTM{}) {
		e.UTM = browser.UTM
	}
	if len(browser.ClickIDs) > 0 {
		ids := maps.Clone(browser.ClickIDs)
		maps.Copy(ids, e.ClickIDs)
		e.ClickIDs = ids
	}
	fill(&e.Channel, browser.Channel)
	fill(&e.Currency, browser.Currency)
	fill(&e.OrderID, browser.OrderID)
	if e.Value == nil {
		e.Value = browser.Value
	}
	fill(&e.Consent.AdStorage, browser.Consent.AdStorage)
	fill(&e.Consent.AnalyticsStorage, browser.Consent.AnalyticsStorage)
	fill(&e.Consent.AdUserData, browser.Consent.AdUserData)
	fill(&e.Consent.AdPersonalization, browser.Consent.AdPersonalization)
	if e.Device == (event.Device{}) {
		e.Device = browser.Device
	}
	fill(&e.IP, browser.IP)
	fill(&e.RawIP, browser.RawIP)
	if len(e.RawIPSealed) == 0 {
		e.RawIPSealed = browser.RawIPSealed
	}
	fill(&e.UserAgent, browser.UserAgent)
	fill(&e.Screen, browser.Screen)
	fill(&e.Language, browser.Language)
	fill(&e.FBP, browser.FBP)
	fill(&e.FBC, browser.FBC)
	fill(&e.GAClientID, browser.GAClientID)
	// An email's or a phone's digests go together: the server's Google
	// variant must never pair with the browser's address.
	if e.User.EmailSHA256 == "" {
		e.User.EmailSHA256, e.User.EmailGoogleSHA256 = browser.User.EmailSHA256, browser.User.EmailGoogleSHA256
	}
	if e.User.PhoneSHA256 == "" {
		e.User.PhoneSHA256, e.User.PhoneE164SHA256 = browser.User.PhoneSHA256, browser.User.PhoneE164SHA256
	}
	fill(&e.User.FirstNameSHA256, browser.User.FirstNameSHA256)
	fill(&e.User.LastNameSHA256, browser.User.LastNameSHA256)
	fill(&e.User.CitySHA256, browser.User.CitySHA256)
	fill(&e.User.ZipSHA256, browser.User.ZipSHA256)
	fill(&e.User.CountrySHA256, browser.User.CountrySHA256)
	if len(e.Properties) == 0 {
		e.Properties = browser.Properties
	}
	return e
}

func fill(dst *string, from string) {
	if *dst == "" {
		*dst = from
	}
}
