/*
Package forward sends a site's events server-side to one destination: an ad
platform (Meta, Google Ads, GA4, Pinterest, TikTok), a webhook, or a sales
alert channel (Telegram, OneSignal).

The engine (Engine) owns everything platforms share: it follows the site's
events through the store's exact feed (store.Deliveries), picks the events the
destination's mapping names, batches them up to the platform's limit, sends
them with bounded concurrency, and records each event's delivery once, with
its outcome, moving its cursor past a page of the feed in the same
transaction (Settle): an event never has a record saying sent before the
platform confirmed it, and one fed but not settled when the forwarder dies is
fed again. It retries transient failures with exponential backoff and jitter
(honouring Retry-After), from the records. One package per platform under this
one implements Platform: it maps an Item to the platform's request, hashes and
normalizes matching data by the platform's own rules, and classifies the
platform's answers.
*/
package forward
