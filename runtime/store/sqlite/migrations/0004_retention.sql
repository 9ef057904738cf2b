-- What retention and erasure need (see the PostgreSQL schema for each
-- table's purpose). Times are INTEGER microseconds since the Unix epoch.

CREATE INDEX deliveries_site_event_idx ON deliveries (site, event_id);

CREATE TABLE retention_marks (
    site        TEXT    NOT NULL,
    step        TEXT    NOT NULL,
    done_before INTEGER NOT NULL,
    PRIMARY KEY (site, step)
);

CREATE TABLE erasures (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    site         TEXT    NOT NULL,
    requested_at INTEGER NOT NULL,
    requested_by TEXT    NOT NULL,
    key_kind     TEXT    NOT NULL CHECK (key_kind IN ('visitor_id', 'user_id', 'email', 'order_id')),
    key          TEXT,
    suppress     INTEGER NOT NULL,
    completed_at INTEGER,
    rows_removed INTEGER
);

CREATE INDEX erasures_site_idx ON erasures (site, id);

CREATE TABLE suppressions (
    site       TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('visitor_id', 'user_id', 'email')),
    key_hash   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (site, kind, key_hash)
);

CREATE TABLE retention_runs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    site        TEXT    NOT NULL,
    policy      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    error       TEXT    NOT NULL,
    summary     TEXT    NOT NULL
);

CREATE INDEX retention_runs_site_idx ON retention_runs (site, seq);
