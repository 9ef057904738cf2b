-- Rollups of the dashboard's overview and time series (see the PostgreSQL
-- schema and store/rollups.go). Times are INTEGER microseconds since the
-- Unix epoch; hours before a site's rolled_to are rolled up from exactly
-- the events whose seq is at most watermark. Numbered 0005 so that 0004
-- stays free for the retention schema.
CREATE TABLE rollup_sessions (
    site        TEXT    NOT NULL,
    hour        INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    channel     TEXT,
    campaign    TEXT,
    device      TEXT,
    session_id  TEXT,
    lone        INTEGER,
    visitor_id  TEXT,
    events      INTEGER NOT NULL,
    pageviews   INTEGER NOT NULL,
    conversions INTEGER NOT NULL,
    revenue     REAL,
    first_at    INTEGER NOT NULL,
    last_at     INTEGER NOT NULL
);

CREATE INDEX rollup_sessions_site_hour_idx ON rollup_sessions (site, hour);

CREATE TABLE rollup_state (
    site      TEXT    PRIMARY KEY,
    rolled_to INTEGER NOT NULL,
    watermark INTEGER NOT NULL
);
