-- What forwarders need: an exact feed of each site's events, a delivery
-- record per event and destination, the sealed raw IP until it is
-- delivered, and the sale a refund adjusts.

-- txid is the inserting transaction's id. A forwarder's feed reads events
-- in (txid, seq) order and only below the xmin of its snapshot: every
-- transaction below xmin has ended, so no event can later appear behind a
-- position already fed, however the collectors' commits interleave. Rows
-- stored before this migration all get the migration's id (the default is
-- evaluated per row), which keeps them in seq order. A superseding server
-- event is a new row, so it gets a new txid and is fed again.
ALTER TABLE events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_site_txid_idx ON events (site, txid, seq);

-- The client address before anonymization, encrypted with the site's key,
-- kept only until every destination that matches on it has the event.
ALTER TABLE events ADD COLUMN ip_sealed bytea;

-- A refund finds the sale it adjusts by order id; most events have none.
CREATE INDEX events_site_order_id_idx ON events (site, order_id) WHERE order_id IS NOT NULL;

-- A destination's place in its site's events: (pos_a, pos_b) is the
-- (txid, seq) of the last event fed; since is the earliest received_at it
-- forwards, so a cursor opened today does not scan the site's history.
CREATE TABLE forward_cursors (
    site        text        NOT NULL,
    destination text        NOT NULL,
    pos_a       bigint      NOT NULL,
    pos_b       bigint      NOT NULL,
    since       timestamptz NOT NULL,
    PRIMARY KEY (site, destination)
);

-- One event's fate at one destination. source is the source of the event
-- the record was made for: a record made for a browser event is replaced
-- when a server event supersedes it and is fed again, any other repeat
-- (a backfill, a retried Track) keeps the record.
CREATE TABLE deliveries (
    site            text        NOT NULL,
    destination     text        NOT NULL,
    event_id        text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'sent', 'skipped', 'failed')),
    send_as         text        NOT NULL,
    reason          text        NOT NULL,
    attempts        integer     NOT NULL,
    response_id     text        NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    source          text        NOT NULL,
    PRIMARY KEY (site, destination, event_id)
);

-- Due reads pending records oldest event first; the records of events
-- already delivered are most of the table and stay out of this index.
-- next_attempt_at is in the key so records backing off are passed over
-- without reading the table.
CREATE INDEX deliveries_due_idx ON deliveries (site, destination, received_at, next_attempt_at)
    WHERE status = 'pending';
