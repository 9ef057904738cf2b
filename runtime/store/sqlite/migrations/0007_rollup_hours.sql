-- The second tier of the dashboard's rollups: see the PostgreSQL
-- migration 0008_rollup_hours.sql and store/rollups.go.
CREATE TABLE rollup_visitors (
    site       TEXT    NOT NULL,
    visitor_id TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (site, visitor_id)
);
CREATE UNIQUE INDEX rollup_visitors_site_n_idx ON rollup_visitors (site, n);

CREATE TABLE rollup_hours (
    site        TEXT    NOT NULL,
    hour        INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    channel     TEXT,
    campaign    TEXT,
    device      TEXT,
    sessions    INTEGER NOT NULL,
    bounces     INTEGER NOT NULL,
    secs        REAL    NOT NULL,
    pageviews   INTEGER NOT NULL,
    conversions INTEGER NOT NULL,
    revenue     REAL    NOT NULL,
    visitors    BLOB    NOT NULL
);
CREATE INDEX rollup_hours_site_hour_idx ON rollup_hours (site, hour);

CREATE TABLE rollup_hours_all (
    site        TEXT    NOT NULL,
    hour        INTEGER NOT NULL,
    sessions    INTEGER NOT NULL,
    bounces     INTEGER NOT NULL,
    secs        REAL    NOT NULL,
    pageviews   INTEGER NOT NULL,
    conversions INTEGER NOT NULL,
    revenue     REAL    NOT NULL,
    visitors    BLOB    NOT NULL,
    PRIMARY KEY (site, hour)
);

CREATE TABLE rollup_spans (
    site        TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    first_hour  INTEGER NOT NULL,
    last_hour   INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    channel     TEXT,
    campaign    TEXT,
    device      TEXT,
    split       INTEGER NOT NULL,
    bounces     INTEGER NOT NULL,
    secs        REAL    NOT NULL,
    pageviews   INTEGER NOT NULL,
    conversions INTEGER NOT NULL,
    revenue     REAL    NOT NULL,
    PRIMARY KEY (site, session_id)
);
CREATE INDEX rollup_spans_first_idx ON rollup_spans (site, first_hour);
CREATE INDEX rollup_spans_split_idx ON rollup_spans (site, first_hour) WHERE split <> 0;

CREATE INDEX rollup_sessions_shared_idx ON rollup_sessions (site, hour) WHERE shared <> 0;
CREATE INDEX rollup_sessions_site_visitor_idx ON rollup_sessions (site, visitor_id) WHERE visitor_id IS NOT NULL;

DELETE FROM rollup_sessions;
DELETE FROM rollup_state;
