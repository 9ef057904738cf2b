-- The dashboard's audit log (see the PostgreSQL schema). at is INTEGER
-- microseconds since the Unix epoch; the rowid orders entries recorded in
-- the same microsecond.
CREATE TABLE audit_log (
    site   TEXT    NOT NULL,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    detail TEXT    NOT NULL
);

-- A site's newest entries first (the rowid is implied).
CREATE INDEX audit_log_site_at_idx ON audit_log (site, at);
