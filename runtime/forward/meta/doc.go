/*
Package meta sends conversions to the Meta Conversions API (Graph API v26.0):
one POST /v26.0/{pixelID}/events per batch of at most 1,000 events, with the
access token in the JSON body so it never appears in a URL, a log line or an
error.

# What is sent

Every event goes out with action_source "website", event_name (the mapped
name), event_time (unix seconds), event_id (the tracker's id, which Meta
uses to deduplicate against the browser pixel), event_source_url (the event's
URL) and user_data:

  - em, ph, fn, ln, ct, zp, country: the stored SHA-256 digests, passed
    through lower-cased; a value that is not yet a digest is normalized by
    Meta's rules (package enrich) and hashed;
  - external_id: the event's user id, trimmed, lower-cased and hashed;
  - client_ip_address (the visitor's real IP, omitted when the store no
    longer has it) and client_user_agent, never hashed;
  - fbp: the _fbp cookie; fbc: the _fbc cookie, or when there is none but the
    landing URL carried an fbclid, "fb.1.{event time in ms}.{fbclid}" (Meta's
    format, with the event's time standing in for the first time the click
    id was seen).

custom_data carries value, currency and order_id, and the event properties'
content_ids (strings) and contents ([{id, quantity, item_price}]) when
present. test_event_code is the settings block's testEventCode.

# Default mapping

	purchase        Purchase
	lead            Lead
	signup          CompleteRegistration
	add_to_cart     AddToCart
	begin_checkout  InitiateCheckout
	add_payment_info AddPaymentInfo
	view_item       ViewContent
	search          Search
	subscribe       Subscribe
	contact         Contact

Page views are not sent unless the Destination maps them (pageview →
PageView): every page view server-side costs requests and rate limit for
little gain over the browser pixel.

# Rejected before sending

Meta rejects a whole request for one bad event, so these items are Failed
with a reason and left out of the request: events older than seven days (less
a minute of margin for the time the request takes: Meta refuses the whole
batch for one such event), events without a URL or a user agent (a website
event needs event_source_url and client_user_agent), and Purchase events
without a value and a currency.

# Answers

A 2xx answer marks every sent item Sent, with Meta's fbtrace_id as the
response id. Any other answer fails the whole batch, classified by Meta's
error object: is_transient true is Transient; HTTP 401/403 or OAuth error code
190 is Auth; Meta's throttling codes (4, 17, 32, 613) and HTTP 429/5xx are
Transient; every other 4xx is Permanent. Connection errors are Transient and
their text never carries a URL.
*/
package meta
