-- The second tier of the dashboard's rollups (store/rollups.go): per site,
-- UTC hour and value of the filterable dimensions, the sums of the
-- rollup_sessions rows that are their session's only row, and a bitmap of
-- the distinct visitors of all its rows. A 30-day overview then reads
-- about a thousand of these rows, the few sessions that span rows, and
-- unions the bitmaps, instead of counting millions of session rows.
--
-- Bitmaps hold visitor numbers, not ids: rollup_visitors numbers each
-- site's visitors densely as they are first rolled up, which keeps the
-- bitmaps small. Refreshes after deletions drop the numbers of visitors
-- left without rollup rows, so no id outlives its events here.
CREATE TABLE rollup_visitors (
    site       text   NOT NULL,
    visitor_id text   NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (site, visitor_id)
);
-- Numbering new visitors starts after the site's largest number.
CREATE UNIQUE INDEX rollup_visitors_site_n_idx ON rollup_visitors (site, n);

CREATE TABLE rollup_hours (
    site           text             NOT NULL,
    hour           timestamptz      NOT NULL,
    source         text             NOT NULL,
    channel        text,
    campaign       text,
    device         text,
    -- Over the rollup_sessions rows of the hour and dimensions with
    -- shared = 0 (each the whole of its session) and the rollup_spans not
    -- split that start in the hour: their sessions, bounces, seconds, page
    -- views, conversions and revenue.
    sessions       integer          NOT NULL,
    bounces        integer          NOT NULL,
    secs           double precision NOT NULL,
    pageviews      integer          NOT NULL,
    conversions    integer          NOT NULL,
    revenue        double precision NOT NULL,
    -- A portable roaring bitmap of the rollup_visitors numbers of every
    -- row of the hour and dimensions, shared or not.
    visitors       bytea            NOT NULL
);
CREATE INDEX rollup_hours_site_hour_idx ON rollup_hours (site, hour);

-- The same per site and hour over all dimension values, for the reads
-- without a dimension filter (most): a row and one bitmap per hour,
-- however many sources, campaigns and devices a site's traffic has.
CREATE TABLE rollup_hours_all (
    site        text             NOT NULL,
    hour        timestamptz      NOT NULL,
    sessions    integer          NOT NULL,
    bounces     integer          NOT NULL,
    secs        double precision NOT NULL,
    pageviews   integer          NOT NULL,
    conversions integer          NOT NULL,
    revenue     double precision NOT NULL,
    visitors    bytea            NOT NULL,
    PRIMARY KEY (site, hour)
);

-- Per site, one row per session whose rollup_sessions rows are shared
-- (it has, or had, more than one), summing all its rows: the session as
-- the raw statement would count it over a range holding all of it. Unless
-- split, a span is counted in the rollup_hours row of its first hour and
-- dimension values; reads take back the spans a range or bucket boundary
-- cuts, and merge those sessions from their rows. split is 1 when its
-- rows differ in a dimension value (a filter would count only part of
-- it) or it lasts more than six hours (reads look six hours back for
-- spans crossing a boundary): such sessions are always merged from rows.
CREATE TABLE rollup_spans (
    site        text             NOT NULL,
    session_id  text             NOT NULL,
    first_hour  timestamptz      NOT NULL,
    last_hour   timestamptz      NOT NULL,
    source      text             NOT NULL,
    channel     text,
    campaign    text,
    device      text,
    split       smallint         NOT NULL,
    bounces     integer          NOT NULL,
    secs        double precision NOT NULL,
    pageviews   integer          NOT NULL,
    conversions integer          NOT NULL,
    revenue     double precision NOT NULL,
    PRIMARY KEY (site, session_id)
);
CREATE INDEX rollup_spans_first_idx ON rollup_spans (site, first_hour);
CREATE INDEX rollup_spans_split_idx ON rollup_spans (site, first_hour) WHERE split <> 0;

-- Reads merge the shared rows of a range at read time; refreshes look a
-- visitor's rows up when deciding whether its number may go.
CREATE INDEX rollup_sessions_shared_idx ON rollup_sessions (site, hour) WHERE shared <> 0;
CREATE INDEX rollup_sessions_site_visitor_idx ON rollup_sessions (site, visitor_id) WHERE visitor_id IS NOT NULL;

-- Rolled hours so far have no rollup_hours rows: roll every site up again
-- from its events (the dashboard's next RollUp does).
DELETE FROM rollup_sessions;
DELETE FROM rollup_state;
