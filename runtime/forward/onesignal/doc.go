/*
Package onesignal sends sale alerts as OneSignal push notifications:
POST {endpoint}/notifications (default host https://api.onesignal.com), one
notification per event (MaxBatch 1).

# What is sent

	Authorization: Key <apiKey>
	{"app_id":"…","target_channel":"push","included_segments":["Total Subscriptions"],
	 "headings":{"en":"💰 New sale"},"contents":{"en":"129.90 EUR · google / cpc · black-friday\nOrder 1001"},
	 "idempotency_key":"<UUID>"}

Authorization: OneSignal's current documentation (Keys & IDs, and the
Create message reference on api.onesignal.com) authenticates with the App
API key as "Authorization: Key <key>". "Basic <key>" belongs to the legacy
REST API keys of onesignal.com/api/v1; App API keys made today use Key, so
that is what is sent. An older key that OneSignal refuses surfaces as an
auth failure naming the header.

Audience: "Total Subscriptions" is the built-in segment of every subscribed
subscription in apps on OneSignal's user model (older apps called it
"Subscribed Users"; OneSignal's generated SDK docs also describe "All" as a
shorthand). The segment name was not confirmed verbatim in the stored
documentation this package was written against, so it is one constant,
Segment.

idempotency_key: a UUID (version 5 layout) derived from the site and the
event id, so a resend after a crash or a timeout carries the same key and
OneSignal, which remembers keys for 30 days, does not notify twice.

The heading is the mapping's name (SendAs, "New sale" by default); the
content is the amount, the source and campaign, and the order id, as far as
the event has them. Which events alert and from which amount is the
engine's business (EventMapping.MinValue).

# Default mapping

	purchase  New sale

# How answers are classified

OneSignal may answer 200 and still carry "errors". A non-empty "id" means
the notification was created: Sent, with the id as ResponseID, whatever the
errors say about some recipients. An empty id means nothing was sent: with
errors (e.g. "All included players are not subscribed") the event is Failed
with them as the reason, since a resend reaches nobody either; with no
errors the answer is not one OneSignal documents, and the event is retried.
Non-2xx answers go through forward.ClassifyHTTP (401/403 auth, 429 and 5xx
transient with Retry-After, other 4xx permanent) with OneSignal's errors as
the message. The API key never appears in an error.
*/
package onesignal
