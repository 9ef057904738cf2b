/*
Package googleadsapi sends conversions to Google Ads through the Google Ads
API v26 (Destination type googleAdsAPI): uploadClickConversions for sales
and uploadConversionAdjustments for refunds and cancellations.

Since 2026-06-15 Google rejects offline click-conversion uploads from
developer tokens that were not already uploading
(CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE); new setups use type googleAds
(package googleads, the Data Manager API). This package is for allowlisted
tokens, and for what only this API can do: retract a conversion.

# Authentication

Authorization: Bearer with an OAuth2 access token minted from the Secret's
clientID, clientSecret and refreshToken (golang.org/x/oauth2, token URL
https://oauth2.googleapis.com/token or the block's tokenURL, scope
https://www.googleapis.com/auth/adwords), cached until shortly before it
expires; the developer-token header from the Secret's developerToken; and
login-customer-id when the block sets loginCustomerID.

# What is sent

POST /v26/customers/{customerID}:uploadClickConversions with
{conversions (at most 2,000, MaxBatch), partialFailure: true, validateOnly}:

	gclid | gbraid | wbraid  exactly one when the event has any (gclid preferred)
	conversionAction         customers/{customerID}/conversionActions/{conversionActionID}
	conversionDateTime       "2026-01-02 15:04:05+01:00", the event's time and zone
	conversionValue, currencyCode  when the event has a value
	orderId                  the order id, else the event id
	userIdentifiers          [{hashedEmail: User.GoogleEmail()},
	                          {hashedPhoneNumber: User.PhoneE164SHA256}],
	                         one identifier per object, only SHA-256 hex digests
	consent                  {adUserData: GRANTED | DENIED} when signalled

An event without a click id is still sent when it has a hashed email or
phone: Google documents such uploads as enhanced conversions for leads
(user identifiers, gclid optional), which the conversion action must have
enabled. Events with neither are Failed before sending.

# Refunds and cancellations

Events named "refund" and "cancel" (whatever the mapping calls them) become
POST /v26/customers/{customerID}:uploadConversionAdjustments rows,
identified by orderId, with adjustmentDateTime the refund's time:

	cancel                              RETRACTION (value and count to zero)
	refund ≥ sale value, or no values   RETRACTION
	refund < sale value                 RESTATEMENT, restatementValue
	                                    {adjustedValue: sale − refunded,
	                                     currencyCode: the sale's}

The refund's value is taken as the total refunded for the order. Failed
before sending: a refund or cancel whose sale is not stored
(Item.Original nil, or without order id), one not later than the sale
(Google rejects adjustments that precede the conversion), a refund in
another currency than the sale. Clicks and adjustments of one batch go in
two requests; when only one of them fails as a whole, its items are
Retry (or Failed, for a permanent error) and the other's outcomes stand.

# Default mapping

One Destination is one conversion action:

	purchase → purchase
	refund   → adjustment
	cancel   → adjustment

# Answers

Per row, from partialFailureError (a GoogleAdsFailure whose errors carry
the field path conversions[i] or conversion_adjustments[i]; an error with
no row index applies to every row):

	CLICK_CONVERSION_ALREADY_EXISTS, CONVERSION_ALREADY_RETRACTED,
	RESTATEMENT_ALREADY_EXISTS          Sent (an earlier attempt recorded it)
	TOO_RECENT_EVENT, TOO_RECENT_CONVERSION_ACTION
	                                    Retry after 6 hours, as Google asks
	TOO_RECENT_CONVERSION (adjustment)  Retry after 24 hours
	EXPIRED_EVENT, UNPARSEABLE_GCLID, CONVERSION_NOT_FOUND and all others
	                                    Failed with Google's code and message

Whole requests: 401 and 403 are Auth (a 401 also drops the cached token),
as is the token endpoint refusing the client or the refresh token
(invalid_grant); 429 and 5xx are Transient; other 4xx Permanent with
Google's error code and message; CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE
is Permanent with a message pointing at type googleAds. ResponseID is
Google's request-id. Errors and reasons never carry a credential: the
client secret, refresh token, access tokens and developer token are
scrubbed from any message, and URLs are dropped from connection errors.
*/
package googleadsapi
