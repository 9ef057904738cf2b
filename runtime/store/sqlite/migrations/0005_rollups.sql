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
    last_at     INTEGER NOT NULL,
    -- 1 when the session may have other rows; 0: its only row.
    shared      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX rollup_sessions_site_hour_idx ON rollup_sessions (site, hour);
CREATE INDEX rollup_sessions_site_session_idx ON rollup_sessions (site, session_id) WHERE session_id IS NOT NULL;

CREATE TABLE rollup_state (
    site      TEXT    PRIMARY KEY,
    rolled_to INTEGER NOT NULL,
    watermark INTEGER NOT NULL
);
