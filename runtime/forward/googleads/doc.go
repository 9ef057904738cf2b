/*
Package googleads sends conversions to Google Ads through the Data Manager
API (Destination type googleAds): POST
https://datamanager.googleapis.com/v1/events:ingest, the path Google wants
new integrations to use.

# Authentication

An OAuth2 access token minted from the Secret's clientID, clientSecret and
refreshToken (golang.org/x/oauth2, token URL https://oauth2.googleapis.com/token
or the block's tokenURL) and cached until shortly before it expires, so the
token endpoint sees about one request an hour. The refresh token must have
been granted the scope https://www.googleapis.com/auth/datamanager. No
developer token is needed. A 401 from the API drops the cached token.

# What is sent

One request per batch of at most 2,000 events (MaxBatch), in the JSON of
google.golang.org/api/datamanager/v1 (written from plain structs, wire.go):

	destinations  [{operatingAccount {GOOGLE_ADS, customerID},
	               loginAccount {GOOGLE_ADS, loginCustomerID} when set,
	               productDestinationId conversionActionID}]
	encoding      HEX
	validateOnly  the block's validateOnly (Google checks, records nothing)
	events[]      adIdentifiers   one of gclid, gbraid, wbraid (in that preference)
	              eventTimestamp  the event's time, RFC 3339 with its zone
	              transactionId   the order id, else the event id
	              conversionValue, currency (upper-cased) when the event has a value
	              userData        emailAddress = User.GoogleEmail(),
	                              phoneNumber = User.PhoneE164SHA256 (enhanced
	                              conversions), each only when present
	              consent         adUserData, adPersonalization: granted →
	                              CONSENT_GRANTED, denied → CONSENT_DENIED,
	                              unset → left out
	              eventSource     WEB

Identifiers are the digests ingest stored with Google's normalization
(gmail.com/googlemail.com addresses without dots and +tags, phones in E.164
with "+"); a stored value that is not a SHA-256 hex digest is never sent.

# Default mapping

A destination is one conversion action, so the default mapping takes sales
only; send leads or sign-ups to their own conversion action with another
Destination and an explicit events list. The names are labels for records:
the Data Manager API has no event name for Google Ads conversions.

	purchase → purchase    a conversion of the action
	refund   → adjustment  a value restatement (below)

# Refunds and cancellations

The Data Manager API adjusts a recorded conversion when an event arrives
with the same transactionId for the same conversion action: conversionValue
and currency overwrite the recorded ones (the count does not change), and
userData only supplements a conversion that had none. It has no retraction:
unlike the Google Ads API's RETRACTION, it cannot set a conversion's value
and count to zero. So this adapter:

  - sends a partial refund (its value below the sale's) as the sale again,
    with the sale's transactionId, identifiers, time and consent, and
    conversionValue = sale value − refunded amount. The refund's value is
    taken as the total refunded for the order; a refund in another
    currency than the sale fails.
  - fails a full refund (refunded ≥ sale value, or either without a value),
    and a "cancel", with a reason saying to use a googleAdsAPI destination,
    whose RETRACTION removes the conversion. "cancel" is not in the default
    mapping, since it can only fail here.
  - fails a refund whose sale is not stored (Item.Original is nil).

# Rejected before sending

Events Failed with a reason and left out of the request: events with
neither a click id nor a hashed email or phone (Google cannot match them),
negative values, the refunds and cancellations above.

# Answers

The Data Manager API takes or rejects a request whole, so an error fails
every event that was sent: 401 and 403 are Auth, as is the token endpoint
refusing the client or the refresh token (invalid_grant, invalid_client);
429 and 5xx (also the token endpoint's) are Transient; 400 and other 4xx
are Permanent with Google's error.message. On success every sent event is
Sent with Google's requestId as ResponseID. Errors never carry a
credential: the client secret, refresh token and access tokens are
scrubbed from any message, and URLs are dropped from connection errors.
*/
package googleads
