/*
Package ingest is the collector's HTTP side: the browser endpoint and pixel
of the tracker protocol (docs/tracker-protocol.md), the server-side
/v1/events API, health, readiness and metrics. It decodes and validates
batches, identifies visitors and sessions, enriches events (runtime/enrich)
and hands them to an EventWriter, answering only after the write.

# Endpoints

	POST {tracker.path}/e          browser batch (docs/tracker-protocol.md), ≤ 50 events, ≤ 64 KiB
	OPTIONS {tracker.path}/e       CORS preflight
	GET  {tracker.path}/p.gif?d=   pixel fallback: base64url of the same batch; always a 1×1 GIF
	GET  {tracker.path}/t.js       the tracker's files (Options.Script): t.js, x.js, tcf.js, h.js
	POST /v1/events                server-side API, bearer ingest key, ≤ 500 events, ≤ 1 MiB
	                               (Content-Encoding: gzip accepted, ≤ 1 MiB once inflated)
	GET  /healthz                  200 while the process serves
	GET  /readyz                   200 when Options.Ready passes (e.g. the store answers a ping);
	                               503 once Drain was called (SIGTERM)
	GET  /metrics                  Prometheus text from Options.Registry

Several sites can share one collector (standalone mode): each is served under
its own tracker.path, sites may share a path, and the body's "site" picks the
site among those served under the request's path. An unknown site is 404.

# Server-side API

	POST /v1/events
	Authorization: Bearer <contents of the site's ingestKey file>
	{"site": "shop", "events": [{
	  "event_id": "order-1001-purchase",      required, ≤ 128 printable ASCII
	  "type": "conversion",                   pageview|click|form_submit|conversion|custom|identify
	  "name": "purchase",                     sales: purchase; refunds: refund; leads: lead; any for custom
	  "timestamp": "2026-11-23T10:00:00Z",    required, RFC 3339, within 72h past … 5m future
	  "visitor_id": "…",                      optional: the _tsv cookie value (signed) or id
	  "user_id": "…", "value": 99.5 (at most 1e12 either way), "currency": "EUR", "order_id": "1001",
	  "url": "…", "referrer": "…", "utm": {…}, "click_ids": {"gclid": "…"},
	  "user": {"email", "phone", "first_name", "last_name", "city", "zip", "country",
	           "em_google", "ph_e164", "ip", "user_agent"},
	  "consent": {"ad_user_data": "granted", …}, "properties": {…} (≤ 16 KiB),
	  "fbp": "…", "fbc": "…", "ga_client_id": "…"
	}]}

The key is compared in constant time against every site's key before the body
is read; a key valid for another site than the body's is 403. user fields may
be raw (normalized, then SHA-256 hashed, see enrich.HashUser) or already
64-hex SHA-256 digests (passed through). Platforms normalize differently, and
a hash cannot be re-normalized, so a raw email or phone is hashed once per
form that differs: Meta's (email trimmed and lower-cased; phone as digits
with the country code, "16505551212"), Google's email (also without the dots
and "+tag" of a gmail.com or googlemail.com local part, kept only where it
differs: "Jo.E.Smith+promo@Gmail.com" → "joesmith@gmail.com") and the E.164
phone ("+16505551212", for Google and TikTok). A phone without "+" or "00"
is read as a national number of user.country. A backend sending digests
may add its own em_google and ph_e164 digests (64 hex digits, else the
event is rejected as invalid); without them only the common digests are
kept. user.ip and user.user_agent are the
end user's (never the calling backend's): the IP is stored anonymized per the
site's privacy setting, the raw one in Event.RawIP (memory) and sealed as
described under Personal data, and the user agent gives the device. Refunds: send name "refund" with the refunded amount
as a positive or negative value; it is stored negative, so summed values net
out. Any other event with a negative value is rejected. When visitor_id is
missing on a cookieless site, user.ip + user.user_agent give the same daily
visitor id the browser had. Server events join the visitor's open session (and
its channel) but never open one. There is no bot filtering on this API: the
caller is authenticated.

# Personal data

What an event keeps of a person: hashes of email, phone, names, city, zip
and country (never the raw values, which exist only while the request is
handled); the IP anonymized per privacy.ipAnonymization; and, only for a
site with a destination of type meta, tiktok or pinterest (whose platforms match
better on the real client IP), the raw IP of browser events and of server
events with user.ip, sealed in Event.RawIPSealed: AES-256-GCM with the
site's key ipSealingKey (the <site>-keys Secret, or the standalone data
directory; package sealing), which only the collector and the forwarders
read. A site without such a destination keeps no raw IP, and one with such
a destination but no valid key fails to start. The sealed IP is kept until
the forwarder has delivered the event to every such destination, then
deleted; retention's anonymizeIPAfterDays deletes it regardless, delivered
or not.

# One event_id from the browser and the server

The tracker and the browser pixels share one event_id per conversion, and a
site's backend often reports the same sale with that id. An event posted
with the ingest key is never blocked by an anonymous browser event that used
its id first: the server event supersedes it (store.Supersede). The server's
fields win (value, currency, order id, matching data, name); the browser's
visit context (visitor, session, page, referrer, campaign, click ids, channel,
device, consent, cookies) fills what the server event lacks, so the sale keeps
its attribution; the event keeps the browser copy's received_at. The server
request counts it as accepted. Later copies from either side, and a browser
event after a server event, are duplicates and change nothing.

# Answers

	200 {"accepted": N, "duplicates": D, "rejected": [{"index", "event_id", "reason", "detail"}]}

accepted counts events stored now, duplicates those already stored for
(site, event_id) (from the writer's inserted count), rejected the events that
failed validation, each with a reason from a fixed set (invalid, too_old,
in_future) and a human detail naming the field. A bad event rejects only
itself. A value of the wrong JSON type (or broken JSON, or a wrong envelope)
fails the whole body with 400 and the field path, e.g.
"events[3].value: expected number, got string": that is a client bug, not
bad data. Other answers: 401 (server API key), 403 (origin or key of another
site), 404 (unknown site), 405, 408 (body not received within BodyTimeout),
413 (body over the limit), 415 (Content-Encoding other than gzip), 429 (the
site's rate limits, spec.collector.limits; or, after 10 wrong ingest keys from
one address, every key from it until its allowance refills, see
runtime/throttle) and 503 (the store is unavailable, too slow, or cannot write,
as on a full disk), both with Retry-After; 500 for other store errors.

Unknown fields are ignored (newer trackers stay compatible); over-long URLs
and referrers are truncated to 2 KiB rather than rejected; strings are made
valid UTF-8 without NUL bytes, and props/properties are re-encoded as strict
JSON, so no event can fail a database insert.

# Bots

Browser events are dropped as bots when the user agent is a crawler, HTTP
library or headless browser (enrich.UAParser: mileusna/useragent plus the
CrawlerDetect list), when the event lacks "scripted": true (the client never
ran the tracker), or when the client IP sends events faster than
Limits.BotEventsPerSecond. Dropped bot events are counted in
trackstack_ingest_events_rejected_total{reason="bot"} but reported to the
client as accepted, so a bot learns nothing from the answer.

# Identity and sessions

See identity.go (the _tsv cookie, its lifetime, signing and the cookieless
daily hash) and session.go (30-minute sessions, deterministic ids, replicas).
*/
package ingest
