-- The touchpoints tier of the rollups (store/touchrollups.go): per site and
-- UTC hour, a blob of the hour's touchpoint candidates (each session's
-- first event in the hour and every conversion; layout in
-- store/touchblob.go), so that an attribution report reads one row per
-- hour instead of every event. Rebuilt with the hour's rollup_sessions
-- rows; an hour without events has no row.
CREATE TABLE rollup_touches (
    site    TEXT    NOT NULL,
    hour    INTEGER NOT NULL,
    -- How many records the blob holds, and how many of them name their
    -- session, so that a read sizes its result before the blobs arrive.
    records INTEGER NOT NULL,
    shared  INTEGER NOT NULL,
    touches BLOB    NOT NULL,
    PRIMARY KEY (site, hour)
);

-- Blobs hold user numbers, not ids: rollup_users numbers each site's user
-- ids as they are first rolled up. A rebuild drops the numbers of user ids
-- that no event carries any more (deleted, or cleared by retention).
CREATE TABLE rollup_users (
    site    TEXT    NOT NULL,
    user_id TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (site, user_id)
);
CREATE UNIQUE INDEX rollup_users_site_n_idx ON rollup_users (site, n);

-- Rolled hours so far have no blobs: roll every site up again from its
-- events (the dashboard's next RollUp does).
DELETE FROM rollup_sessions;
DELETE FROM rollup_spans;
DELETE FROM rollup_hours;
DELETE FROM rollup_hours_all;
DELETE FROM rollup_visitors;
DELETE FROM rollup_state;
