-- Events of the embedded (standalone) store. Same columns as PostgreSQL's;
-- times are INTEGER microseconds since the Unix epoch (UTC), the rowid
-- orders events received in the same microsecond, and JSON is TEXT.
CREATE TABLE events (
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
    -- Dedup on (site, event_id); one file holds all days, so no separate
    -- key table is needed as in PostgreSQL.
    UNIQUE (site, event_id)
);

-- Newest-first listing and per-site time ranges (the rowid is implied).
CREATE INDEX events_site_received_at_idx ON events (site, received_at);
