/*
Package telegram sends sale alerts to a Telegram chat through the Bot API:
POST {endpoint}/bot<TOKEN>/sendMessage (default host https://api.telegram.org)
with {chat_id, text, link_preview_options}. One message per event: MaxBatch
is 1.

# The message

Plain text (no parse_mode, so nothing in a campaign name or URL needs
escaping and nothing can break the markup), at most 4096 characters as
Telegram counts them (UTF-16 code units), cut with "…" beyond:

	💰 New sale: 129.90 EUR
	Source: google / cpc · Campaign: black-friday
	Page: https://shop.example.com/checkout
	Order 1001

The first line is the mapping's name (SendAs) used as a heading, with the
amount when the event has a value; the other lines appear when the event
has what they show (the channel stands in for a missing UTM source). Link
previews are disabled so the page URL does not unfold into a card. Which
events alert, and from which amount, is the engine's business
(EventMapping.MinValue), not this package's.

# Default mapping

	purchase  New sale

# How answers are classified

	200 {"ok":true,"result":{"message_id":…}}  Sent, ResponseID the message id
	429 with parameters.retry_after            transient, RetryAfter those seconds
	5xx                                        transient
	401 (the token is invalid or revoked)      auth: fixing the Secret fixes it
	403 (bot blocked, kicked, not in the chat) permanent, with Telegram's
	                                           description: the token is fine,
	                                           someone must add the bot back, and
	                                           retrying would only repeat it
	400 (chat not found, group migrated, ...)  permanent, with the description
	                                           (and the new chat id of a
	                                           migrated group)

The token travels in the URL path, so no error ever includes a URL: a
*url.Error is reduced to its cause, and any text echoing the token is
redacted.
*/
package telegram
