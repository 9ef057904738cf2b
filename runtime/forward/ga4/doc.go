/*
Package ga4 sends events to Google Analytics 4 through the Measurement
Protocol: POST {endpoint}/mp/collect?measurement_id=G-…&api_secret=… (default
host https://www.google-analytics.com; an EU proxy or a test sets the
settings block's endpoint). With debug set in the settings block, requests go
to /debug/mp/collect, the validation server: it records nothing and answers
validationMessages, which become the items' outcomes.

# What is sent

One request carries the events of ONE client: GA4 ties every event of a
request to its client_id, user_id, consent and user_data. Send groups a batch
by those request-level fields and sends one request per group, at most 25
events each, so MaxBatch (100) is larger than GA4's 25 events per request;
each item still gets its own outcome. A request body stays under 130 kB; a
group that would exceed it is split.

  - client_id: Event.GAClientID, the _ga cookie's client id ("123.456"); a
    stored whole cookie ("GA1.1.123.456") is reduced to its id. Without one,
    the visitor id. An event with neither is Failed.
  - user_id: Event.UserID (at most 256 characters, else Failed).
  - consent: ad_user_data and ad_personalization as GRANTED or DENIED, when
    the event signalled them.
  - user_data: sha256_email_address [User.GoogleEmail()] and
    sha256_phone_number [User.PhoneE164SHA256] (Google's normalization,
    E.164 phone with "+"), only values that are SHA-256 hex digests, and
    never when the visitor denied ad_user_data.
  - events[].timestamp_micros: the event's time. GA4 accepts events at most
    72 hours old; older ones are Failed before sending. A time in the future
    (clock skew) is sent as now.
  - events[].params: session_id, engagement_time_msec, value and currency
    (value only with a 3-letter currency: GA4 drops revenue without one),
    transaction_id (the order id; for a refund without one, the original
    sale's), page_location and page_referrer.

session_id: GA4 wants a number-like string (gtag uses the session start in
unix seconds). trackstack's session ids are opaque strings, so a session id
made only of digits (at most 19) is sent as it is, and any other is mapped to
the decimal form of the first 63 bits of its SHA-256: stable for the session,
so GA4 joins the session's events, and never colliding in practice within one
client.

engagement_time_msec: trackstack does not measure engagement, and GA4 shows
an event with none as not engaged (it may not count the user as active). So
each event carries 1 ms: the smallest value GA4 counts as engagement, which
does not inflate average engagement time measurably.

# What is rejected before sending

/mp/collect answers 2xx even for data it drops, so everything GA4 would
refuse is checked first and the item is Failed with a reason: event names
must be at most 40 characters matching ^[A-Za-z][A-Za-z0-9_]*$, not a
reserved name (page_view, session_start, first_visit, click, ...) and not a
reserved prefix (_, firebase_, ga_, google_, gtag.); at most 25 params per
event, param names at most 40 characters, param values at most 100
characters. transaction_id and currency longer than that fail the item;
page_location and page_referrer are only context, so a longer URL loses its
query and fragment and is cut to 100 characters rather than losing the event.

# Default mapping

	purchase          purchase
	lead              generate_lead
	signup            sign_up
	login             login
	add_to_cart       add_to_cart
	remove_from_cart  remove_from_cart
	add_to_wishlist   add_to_wishlist
	view_item         view_item
	view_cart         view_cart
	begin_checkout    begin_checkout
	add_payment_info  add_payment_info
	add_shipping_info add_shipping_info
	search            search
	refund            refund

# How answers are classified

A 2xx from /mp/collect makes every item of the request Sent (GA4 gives no
per-event status). Any other status is classified by forward.ClassifyHTTP:
429 and 5xx are transient (Retry-After honoured), 401/403 are auth failures,
other 4xx permanent. When every request of a batch failed the same way, Send
returns that *forward.Error; otherwise each item of a failed request gets a
Retry (transient, auth) or Failed (permanent) outcome. Errors and reasons
never contain the api_secret: a client error's URL is stripped before it is
reported.
*/
package ga4
