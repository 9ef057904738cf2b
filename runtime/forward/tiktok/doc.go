/*
Package tiktok sends conversions to the TikTok Events API 2.0: one POST
/open_api/v1.3/event/track/ per batch, the access token in the Access-Token
header (never in a URL).

# What is sent

	{event_source: "web", event_source_id: <pixel code>, test_event_code?,
	 data: [{event, event_time (unix s), event_id,
	         user: {email, phone, external_id, ttclid, ttp, ip, user_agent},
	         properties: {currency, value, contents, order_id, content_type},
	         page: {url, referrer}}]}

email is the stored EmailSHA256 (TikTok normalizes email as Meta does);
phone is PhoneE164SHA256 (TikTok hashes E.164 with "+"), never Meta's
PhoneSHA256; external_id is the user id trimmed, lower-cased and hashed. A
stored value that is not yet a digest is normalized and hashed here; a
digest passes through lower-cased. ttclid is the landing URL's click id; ttp
the _ttp cookie when the event's properties carry it (ttp or _ttp), omitted
otherwise; ip the visitor's real IP, omitted when the store no longer has it.
contents come from the properties' contents or content_ids (package
products).

# Batch size

MaxBatch is 1,000. TikTok's own documentation could not be reached to confirm
a limit on data[] for event/track; 1,000 matches the other conversion APIs
and is what tiktokfake enforces. Lower it here if TikTok answers with a
parameter error for large batches.

# Default mapping

	purchase         CompletePayment
	lead             SubmitForm
	signup           CompleteRegistration
	add_to_cart      AddToCart
	add_to_wishlist  AddToWishlist
	begin_checkout   InitiateCheckout
	add_payment_info AddPaymentInfo
	place_order      PlaceAnOrder
	view_item        ViewContent
	search           Search
	subscribe        Subscribe
	contact          Contact

# Rejected before sending

Items without an event name or an event id, and items with a value but no
currency (TikTok needs the currency to read a value), are Failed and left out.

# Answers

TikTok answers HTTP 200 with {code, message, request_id}; only code 0 is
success (every sent item Sent, ResponseID the request_id). A non-zero code
fails the whole batch, classified by the return codes of TikTok's API for
Business as quoted by third-party mirrors of its documentation (the official
page was not reachable): 40001 (no permission), 40102 (token expired), 40104
(token empty) and 40105 (token incorrect or revoked) are Auth; 40100 (too
many requests) and 5xxxx (TikTok's system errors, 50000, 50002, 51xxx) are
Transient; every other non-zero code (40002 invalid parameters, ...) is
Permanent. A non-200 HTTP status is classified by status (forward.ClassifyHTTP).
Connection errors are Transient and their text never carries a URL.
*/
package tiktok
