/*
Package forward sends a site's events server-side to one destination: an ad
platform (Meta, Google Ads, GA4, Pinterest, TikTok), a webhook, or a sales
alert channel (Telegram, OneSignal).

The engine (Engine) owns everything platforms share: it follows the site's
events through the store's exact feed (store.Deliveries), picks the events the
destination's mapping names, records a delivery per event, batches pending
deliveries up to the platform's limit, sends them with bounded concurrency,
retries transient failures with exponential backoff and jitter (honouring
Retry-After), and records every outcome. One package per platform under this
one implements Platform: it maps an Item to the platform's request, hashes and
normalizes matching data by the platform's own rules, and classifies the
platform's answers.
*/
package forward
