-- The touchpoints tier of the rollups (store/touchrollups.go): per site and
-- UTC hour, a blob of the hour's touchpoint candidates (each session's
-- first event in the hour and every conversion; layout in
-- store/touchblob.go), so that a 30-day attribution report reads 720 rows
-- instead of millions of events. Rebuilt with the hour's rollup_sessions
-- rows; an hour without events has no row.
--
-- The blobs are packed varints, which compress poorly: EXTERNAL storage
-- keeps them out of line without spending CPU on compressing them.
CREATE TABLE rollup_touches (
    site    text        NOT NULL,
    hour    timestamptz NOT NULL,
    -- How many records the blob holds, and how many of them name their
    -- session, so that a read sizes its result before the blobs arrive.
    records integer     NOT NULL,
    shared  integer     NOT NULL,
    touches bytea       NOT NULL,
    PRIMARY KEY (site, hour)
);
ALTER TABLE rollup_touches ALTER COLUMN touches SET STORAGE EXTERNAL;

-- Blobs hold user numbers, not ids: rollup_users numbers each site's user
-- ids as they are first rolled up. A rebuild drops the numbers of user ids
-- that no event carries any more (deleted, or cleared by retention).
CREATE TABLE rollup_users (
    site    text   NOT NULL,
    user_id text   NOT NULL,
    n       bigint NOT NULL,
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
