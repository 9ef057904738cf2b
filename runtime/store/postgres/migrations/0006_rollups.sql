-- Rollups of the dashboard's overview and time series (store/rollups.go).
-- The raw events stay the truth: a row here is a cached sum of one site's
-- events of one UTC hour, per session (lone is the seq of an event without
-- a session id, which is a session of its own), visitor and value of the
-- dimensions a filter can name except the page. Hours before the site's
-- rolled_to are rolled up from exactly the events whose txid is below
-- watermark (the xmin of the snapshot that rolled them); reads take newer
-- events and the open hours from events. Numbered 0006 so that 0005 stays
-- free for the retention schema.
--
-- Retention and erasure delete events and then call RefreshRollups for the
-- hours they touched, which rebuilds those hours' rows from what remains.
CREATE TABLE rollup_sessions (
    site        text             NOT NULL,
    hour        timestamptz      NOT NULL,
    source      text             NOT NULL,
    channel     text,
    campaign    text,
    device      text,
    session_id  text,
    lone        bigint,
    visitor_id  text,
    events      integer          NOT NULL,
    pageviews   integer          NOT NULL,
    conversions integer          NOT NULL,
    revenue     double precision,
    first_at    timestamptz      NOT NULL,
    last_at     timestamptz      NOT NULL,
    -- 1 when the session may have other rows (another hour or dimension
    -- value); a row with 0 is its session's only one, which reads count
    -- without merging.
    shared      smallint         NOT NULL DEFAULT 0
);

-- Reads and refreshes take a site's hours in a range.
CREATE INDEX rollup_sessions_site_hour_idx ON rollup_sessions (site, hour);
-- Rolling up finds the other rows of each session it rolled up.
CREATE INDEX rollup_sessions_site_session_idx ON rollup_sessions (site, session_id) WHERE session_id IS NOT NULL;

CREATE TABLE rollup_state (
    site      text        PRIMARY KEY,
    rolled_to timestamptz NOT NULL,
    watermark bigint      NOT NULL
);
