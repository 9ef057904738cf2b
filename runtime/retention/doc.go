/*
Package retention keeps only what a site's RetentionPolicy allows and erases
a person on request. The `trackstack retention` command (the CronJob the
operator renders), standalone's scheduler and the dashboard's erasure API
all go through it; the store does the deleting (store.Retention,
store.Erasure).

# A run

Run takes one policy of one site and a clock (Options.Now, so tests and
backfills can judge ages by another day), and in this order:

  - deletes the events received more than maxAgeDays ago, with their dedup
    keys and delivery records (on PostgreSQL whole day partitions are
    dropped when they hold only this site's events; the rest goes in
    batches of store.DefaultRetentionBatch, never in one transaction);
  - anonymizes the IPs of events received more than anonymizeIPAfterDays
    ago (truncated, or removed when the site stores none) and drops their
    sealed raw IPs;
  - clears the matching data of events received more than
    deletePIIAfterDays ago: hashed user data, user ids, fbp, fbc, the GA
    client id, the sealed raw IP;
  - carries out every pending erasure request of the site;
  - records its summary in the store (retention_runs), unless it was a dry
    run, and returns it.

A dry run changes nothing and reports what a run would change. A run killed
midway and run again finishes the job and counts each row once: every step
works in short transactions, and the update steps resume from a mark the
store keeps per site and step.

# Erasure

An erasure request names a person by visitor id, user id, email (matched by
the digest ingest stores; the address is hashed first and never kept) or
order id. It removes every event of every visitor id and user id the
person's events carry, with their dedup keys and delivery records, and can
suppress the person's future events (their ids, by SHA-256, are dropped at
ingest). Requests complete at the next run, or at once when asked or when
the site has no RetentionPolicy (RequestErasure), so none waits longer than
a day. The request's key is dropped when it completes; what stays is the
audit record: when, by whom, what kind of key, how many events.

# Rollups

Whatever the dashboard pre-aggregates is derived from the events and kept
consistent by the store where the events are deleted (store.Rollups):
deleting events re-rolls their hours in the same transaction, and an
expiry run ends by refreshing the rollups before its cut-off, which also
covers dropped partitions (docs/rollups.md).
*/
package retention
