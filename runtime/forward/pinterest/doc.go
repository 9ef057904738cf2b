/*
Package pinterest sends conversions to the Pinterest Conversions API: one
POST /v5/ad_accounts/{adAccountID}/events per batch of at most 1,000
events, with the conversion token as a Bearer token (never in a URL), and
?test=true when the settings block's test is set (Pinterest then validates
the events and records nothing).

# What is sent

	{data: [{event_name, action_source: "web", event_time (unix s), event_id,
	         event_source_url,
	         user_data: {em, ph, fn, ln, ct, zp, country, external_id (arrays
	                     of SHA-256 hex digests), client_ip_address,
	                     client_user_agent, click_id (the epik click id)},
	         custom_data: {value (a STRING), currency, order_id, content_ids,
	                       contents [{id, quantity, item_price (a string)}],
	                       num_items}}]}

Hashed fields are the stored digests (Pinterest normalizes as Meta does:
PhoneSHA256, not the E.164 one), lower-cased; a value that is not yet a
digest is normalized by those rules and hashed. external_id is the user id,
trimmed, lower-cased and hashed.

# Default mapping

Pinterest takes only its own event names: add_to_cart, checkout, custom,
lead, page_visit, search, signup, view_category, watch_video.

	purchase       checkout
	add_to_cart    add_to_cart
	lead           lead
	signup         signup
	search         search
	view_item      page_visit
	view_category  view_category
	watch_video    watch_video

Plain page views are not sent unless the Destination maps them (pageview →
page_visit): every page view server-side costs requests and rate limit for
little gain over the browser tag.

# Rejected before sending

Pinterest requires user_data to hold em, hashed_maids, or both
client_ip_address and client_user_agent: an event with no email digest that
lacks the visitor's IP (no longer kept) or user agent is Failed with a reason
and left out. So is an event whose mapped name is not one of Pinterest's.

# Answers

Pinterest answers per event: events[{status, error_message}] in request
order, HTTP 200 when all were processed and 422 when some failed. Each sent
item gets its own outcome: processed is Sent, failed is Failed with
Pinterest's error_message. The x-pinterest-rid header, when present, is the
response id. Any other answer fails the whole batch, classified by HTTP
status (401/403 Auth, 429/5xx Transient, other 4xx Permanent) with
Pinterest's {code, message}; so does a 200/422 whose events[] does not match
what was sent (Transient: Pinterest deduplicates on event_id, so a resend is
safe). Connection errors are Transient and their text never carries a URL.
*/
package pinterest
