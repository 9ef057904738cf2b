-- What forwarders need: an exact feed of each site's events, a delivery
-- record per event and destination, the sealed raw IP until it is
-- delivered, and the sale a refund adjusts.
--
-- The feed follows seq, the rowid. SQLite serializes writers, so rowid
-- order is commit order; but a plain rowid is max(rowid) + 1, so a deleted
-- last row's rowid would be handed out again, behind a forwarder's cursor.
-- AUTOINCREMENT never reuses one, and a column cannot become it in place:
-- the table is rebuilt, keeping each row's rowid as its seq.
CREATE TABLE events_new (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    site                       TEXT    NOT NULL,
    received_at                INTEGER NOT NULL,
    event_id                   TEXT    NOT NULL,
    type                       TEXT    NOT NULL,
    name                       TEXT    NOT NULL,
    source                     TEXT    NOT NULL,
    occurred_at                INTEGER NOT NULL,
    visitor_id                 TEXT,
    session_id                 TEXT,
    user_id                    TEXT,
    url                        TEXT,
    referrer                   TEXT,
    utm_source                 TEXT,
    utm_medium                 TEXT,
    utm_campaign               TEXT,
    utm_term                   TEXT,
    utm_content                TEXT,
    channel                    TEXT,
    click_ids                  TEXT,
    value                      REAL,
    currency                   TEXT,
    order_id                   TEXT,
    consent_ad_storage         TEXT,
    consent_analytics_storage  TEXT,
    consent_ad_user_data       TEXT,
    consent_ad_personalization TEXT,
    device_browser             TEXT,
    device_os                  TEXT,
    device_type                TEXT,
    ip                         TEXT,
    user_agent                 TEXT,
    screen                     TEXT,
    language                   TEXT,
    fbp                        TEXT,
    fbc                        TEXT,
    ga_client_id               TEXT,
    user_data                  TEXT,
    properties                 TEXT,
    -- The client address before anonymization, encrypted with the site's
    -- key, kept only until every destination that matches on it has it.
    ip_sealed                  BLOB,
    UNIQUE (site, event_id)
);

INSERT INTO events_new (
    seq, site, received_at, event_id, type, name, source, occurred_at,
    visitor_id, session_id, user_id, url, referrer,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel,
    click_ids, value, currency, order_id,
    consent_ad_storage, consent_analytics_storage, consent_ad_user_data, consent_ad_personalization,
    device_browser, device_os, device_type,
    ip, user_agent, screen, language, fbp, fbc, ga_client_id,
    user_data, properties)
SELECT
    rowid, site, received_at, event_id, type, name, source, occurred_at,
    visitor_id, session_id, user_id, url, referrer,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel,
    click_ids, value, currency, order_id,
    consent_ad_storage, consent_analytics_storage, consent_ad_user_data, consent_ad_personalization,
    device_browser, device_os, device_type,
    ip, user_agent, screen, language, fbp, fbc, ga_client_id,
    user_data, properties
FROM events;

DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

-- Newest-first listing and per-site time ranges (seq, the rowid, is implied).
CREATE INDEX events_site_received_at_idx ON events (site, received_at);
-- The forwarders' feed.
CREATE INDEX events_site_seq_idx ON events (site, seq);
-- A refund finds the sale it adjusts by order id; most events have none.
CREATE INDEX events_site_order_id_idx ON events (site, order_id) WHERE order_id IS NOT NULL;

-- A destination's place in its site's events: pos_b is the seq of the
-- last event fed (pos_a is unused, 0); since is the earliest received_at
-- it forwards.
CREATE TABLE forward_cursors (
    site        TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    pos_a       INTEGER NOT NULL,
    pos_b       INTEGER NOT NULL,
    since       INTEGER NOT NULL,
    PRIMARY KEY (site, destination)
);

-- One event's fate at one destination; source is the source of the event
-- the record was made for (see the PostgreSQL schema). Times are INTEGER
-- microseconds since the Unix epoch.
CREATE TABLE deliveries (
    site            TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'skipped', 'failed')),
    send_as         TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    response_id     TEXT    NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    source          TEXT    NOT NULL,
    PRIMARY KEY (site, destination, event_id)
);

-- Pending records, oldest event first; delivered ones stay out.
CREATE INDEX deliveries_due_idx ON deliveries (site, destination, received_at, next_attempt_at)
    WHERE status = 'pending';
