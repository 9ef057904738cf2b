/*
Package dashboard is the per-site dashboard's HTTP side: the analytics API
under /api/v1/sites/{site}/ (JSON, or CSV with ?format=csv) that every
number on the dashboard's pages comes from.

# Reports

	GET /api/v1/sites/{site}/overview     {site, from, to, current: Totals, previous: Totals}
	GET /api/v1/sites/{site}/timeseries   {interval: "hour"|"day", points: [{start, ...Totals}]}
	GET /api/v1/sites/{site}/pages        {dimension: "page", rows: [Row]}
	GET /api/v1/sites/{site}/sources      {dimension: "source", rows: [Row]}
	GET /api/v1/sites/{site}/channels     {dimension: "channel", rows: [Row]}
	GET /api/v1/sites/{site}/campaigns    {dimension: "campaign", rows: [Row]}
	GET /api/v1/sites/{site}/devices      {dimension: "device"|"browser"|"os", rows: [Row]}  (?by=)
	GET /api/v1/sites/{site}/goals        {goals: [{name, visitors, completions, revenue, conversion_rate}]}
	GET /api/v1/sites/{site}/realtime     {since, totals: Totals, pages: [Row], sources: [Row]}  (last 30 minutes)
	GET /api/v1/sites/{site}/attribution  {model, window, by, credits: [{key, conversions, revenue}]}
	                                      ?model=first_touch|last_touch|last_non_direct (default)|linear|
	                                      time_decay|position_based|data_driven &window=1d|7d|30d (default)|90d
	                                      &by=channel (default)|source|campaign
	GET /api/v1/sites/{site}/journeys     ?visitor_id=|user_id=|email=|order_id= (exactly one)
	                                      {steps: [{at, type, name, url, channel, source, campaign, click_ids,
	                                      device, visitor_id, user_id, value, currency, order_id}]}
	                                      a person's events on every device, stitched through user ids
	                                      (an email is normalized and hashed first and matched by its digest)
	GET /api/v1/sites/{site}/destinations {destinations: [{name, counts: {pending, sent, skipped, failed},
	                                      oldest_pending, recent_failures: [{event_id, reason, attempts, at}],
	                                      days: [{day, sent, skipped, failed, pending, accepted_share}]}]}
	                                      (days: the range's events per UTC day; accepted_share = sent over
	                                      all but skipped records, so a broken integration shows as a fall)
	POST /api/v1/sites/{site}/destinations/{destination}/replay   confirm=yes [&event_id=]  → {destination, replayed}
	                                      failed deliveries pending again (the forwarder sends them); audited
	POST /api/v1/sites/{site}/erasures   {"visitor_id"|"user_id"|"email"|"order_id": "...", "suppress": bool,
	                                      "immediate": bool} (exactly one key) → 200 {id, completed: true, result}
	                                      when it ran, or 202 {id, completed: false} until the next retention
	                                      run (sites with a RetentionPolicy, unless immediate); audited without
	                                      the key. The page's form posts key_kind, key and confirm=yes.
	GET /api/v1/sites/{site}/erasures     {erasures: [{id, requested_at, requested_by, key_kind, suppress,
	                                      completed_at, rows_removed}]} (newest first; never the key)
	GET /api/v1/sites/{site}/audit        {entries: [{at, actor, action, detail}]}  (newest first)

	Totals: {visitors, sessions, pageviews, bounce_rate (0..1), visit_duration_sec, conversions, revenue}
	Row:    {value, visitors, pageviews, conversions, revenue}

Every report takes from and to (RFC 3339, or YYYY-MM-DD in tz, where a
date as to means the end of that day; default: the 30 days up to now, at
most two years), tz (an IANA zone for dates and day buckets, default UTC),
the filters page, source, channel, campaign and device (exact values), and
format=csv. timeseries takes interval=hour|day (default hour up to two
days, else day; hour at most 31 days); breakdowns take limit (1..1000,
default 50). Overview's previous is the period of the same length just
before from. Attribution credits the conversions received in the range
(refunds are not conversions) to the touches of each person (user id,
else visitor id) in the window before each: a touch is a session's first
event; see package attribution for the models. Its page shows every model
side by side. Bad parameters answer 400 with {"error": "..."} naming the
parameter; an unknown site or report answers 404.

# Audit log

The audit report and the Audit page (/sites/{site}/audit) list the site's
newest sign-ins ("sign_in"), failed sign-ins ("sign_in_failed") and
logouts ("logout"), up to limit (default 50): at (RFC 3339; the CSV's time
column is to the second), actor ("admin", the OIDC e-mail of the user
signing in, or empty when a failed sign-in named no known user) and detail
(the method "password", "basic" or "oidc", or "oidc: " and why an OIDC
sign-in was refused). The range and filters do not apply. No password
tried, nor a visitor's data, is ever in an entry. StoreAudit, passed as the
Audit of auth.Options, writes them to the store (store.AuditLog); a write
that fails is logged and the sign-in goes on. A dashboard whose store keeps
no audit log answers the report and the page 404. Script requests with
basic auth that succeed are not recorded (see package auth).

CSV cells that a spreadsheet would evaluate as a formula (starting with =,
+, @, tab, carriage return, or a - that does not start a plain number) are
prefixed with ' (package csvsafe), because page paths and campaign names
come from visitors.
*/
package dashboard
