-- What retention and erasure need: where each retention step has got to,
-- the erasure requests with their audit trail, the suppressed visitors,
-- the runs' results, and a way to find an event's delivery records.

-- Erasure and retention delete the delivery records of the events they
-- delete, by event id; the primary key starts with the destination.
-- Forwarders write these records, ingest does not, so this index costs
-- ingest nothing.
CREATE INDEX deliveries_site_event_idx ON deliveries (site, event_id);

-- done_before is the received_at below which a step (anonymizing IPs,
-- clearing matching data) has treated every event of the site, so the
-- next run starts there instead of rereading the site's whole history.
CREATE TABLE retention_marks (
    site        text        NOT NULL,
    step        text        NOT NULL,
    done_before timestamptz NOT NULL,
    PRIMARY KEY (site, step)
);

-- One erasure request. key holds what to erase (a visitor id, user id,
-- order id, or an email's digest: never the address) only until the
-- request completes; what is left is the audit record: when, by whom,
-- what kind of key, and how many rows went.
CREATE TABLE erasures (
    site         text        NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    requested_at timestamptz NOT NULL,
    requested_by text        NOT NULL,
    key_kind     text        NOT NULL CHECK (key_kind IN ('visitor_id', 'user_id', 'email', 'order_id')),
    key          text,
    suppress     boolean     NOT NULL,
    completed_at timestamptz,
    rows_removed bigint,
    PRIMARY KEY (site, id)
);

-- Requests still to run, for the retention job.
CREATE INDEX erasures_pending_idx ON erasures (site, id) WHERE completed_at IS NULL;

-- Visitors whose future events are dropped at ingest: the SHA-256 of a
-- visitor id or user id, or an email's digest as stored.
CREATE TABLE suppressions (
    site       text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('visitor_id', 'user_id', 'email')),
    key_hash   text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (site, kind, key_hash)
);

-- The result of each retention run, so that long-running processes can
-- show and export what the last scheduled run did.
CREATE TABLE retention_runs (
    site        text        NOT NULL,
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    policy      text        NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    error       text        NOT NULL,
    summary     jsonb       NOT NULL,
    PRIMARY KEY (site, seq)
);
