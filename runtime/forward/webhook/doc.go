/*
Package webhook posts a site's events as signed JSON to a URL of the user's
choosing: a generic destination for their own systems.

# What is sent

Each Send is one POST of up to 100 events (MaxBatch: a body of a few hundred
kilobytes at most, which any receiver handles in one request) to the
settings block's url:

	POST <url>
	Content-Type: application/json
	X-Trackstack-Signature: t=1767225600,v1=<64 hex digits>
	Idempotency-Key: <32 hex digits>

	{"site":"shop","events":[{"send_as":"order.paid","event_id":"…","name":"purchase",…}]}

Every element of events is the trackstack event model (package event,
event.Event, as its JSON tags name the fields: site, event_id, type, name,
source, timestamp, received_at, visitor_id, session_id, user_id, url,
referrer, utm, click_ids, channel, value, currency, order_id, consent,
device, ip, user_agent, screen, language, fbp, fbc, ga_client_id, user,
properties) plus send_as, the name the destination's mapping gives it
("conversion" for every conversion when the Destination lists no events), and,
for a refund or cancellation, original: the sale it adjusts. The stored
event carries only what the site stores: ip is the anonymized address,
user holds SHA-256 digests; the raw IP (in memory or sealed) is never
serialized.

Idempotency-Key is derived from the site and the batch's event ids, so a
resend of the same batch after a crash or a timeout carries the same key.
Batches can be regrouped between retries, so receivers should deduplicate on
each event's event_id; the key only spares them work on an exact resend.

# Signature

v1 is the lowercase hex HMAC-SHA256, keyed with the destination's secret,
of the timestamp t, a dot, and the raw request body: HMAC(secret,
"<t>.<body>"). A receiver verifies a request by:

 1. reading the raw body before any JSON decoding;
 2. splitting the header on "," into key=value pairs, taking t and every v1;
 3. computing HMAC-SHA256(secret, t + "." + body) and comparing it in
    constant time with each v1 (several v1 may appear while a secret is
    being rotated);
 4. rejecting a t further than a tolerance (5 minutes is common) from its
    own clock, so a captured request cannot be replayed later.

Verify does exactly this for Go receivers.

# How answers are classified

Any 2xx makes every event Sent. Otherwise forward.ClassifyHTTP: 5xx, 408,
425 and 429 are retried (Retry-After honoured), 401 and 403 are auth
failures (a receiver refusing the signature), other 4xx are permanent.
Connection errors and timeouts are retried. Error messages never carry the
URL (it may hold a token in its query) or the secret.
*/
package webhook
