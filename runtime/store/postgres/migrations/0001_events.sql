-- Events, partitioned by day (UTC) of received_at so retention drops whole
-- days and the hot partition stays small.
--
-- Distributed PostgreSQL (Citus, distributed by site) takes this schema
-- unchanged: every table has site, and every primary key includes it.
--
-- Only one index on events, because every index costs ingest throughput:
-- (site, received_at, seq) serves the newest-first listing and the
-- dashboard's per-site time ranges.

-- seq orders events received in the same microsecond (insertion order).
CREATE SEQUENCE events_seq AS bigint;

CREATE TABLE events (
    site                       text             NOT NULL,
    received_at                timestamptz      NOT NULL,
    seq                        bigint           NOT NULL DEFAULT nextval('events_seq'),
    event_id                   text             NOT NULL,
    type                       text             NOT NULL,
    name                       text             NOT NULL,
    source                     text             NOT NULL,
    occurred_at                timestamptz      NOT NULL,
    visitor_id                 text,
    session_id                 text,
    user_id                    text,
    url                        text,
    referrer                   text,
    -- Campaign fields and channel are columns: the dashboard groups by them.
    utm_source                 text,
    utm_medium                 text,
    utm_campaign               text,
    utm_term                   text,
    utm_content                text,
    channel                    text,
    click_ids                  jsonb,
    value                      double precision,
    currency                   text,
    order_id                   text,
    -- Consent is four columns: forwarders filter on single purposes.
    consent_ad_storage         text,
    consent_analytics_storage  text,
    consent_ad_user_data       text,
    consent_ad_personalization text,
    device_browser             text,
    device_os                  text,
    device_type                text,
    ip                         text,
    user_agent                 text,
    screen                     text,
    language                   text,
    fbp                        text,
    fbc                        text,
    ga_client_id               text,
    -- Hashed matching data, one column so retention clears it in one step.
    user_data                  jsonb,
    properties                 jsonb
) PARTITION BY RANGE (received_at);

CREATE INDEX events_site_received_at_idx ON events (site, received_at, seq);

-- Safety net: rows for a day whose partition is missing land here, and
-- ensure_event_partition moves them out when it creates that day.
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Dedup on (site, event_id) across all days. A unique constraint on the
-- partitioned table would have to include received_at, so a retried event
-- received on another day would not be caught; this table holds the keys.
-- received_at lets retention delete old keys and find an event's partition.
CREATE TABLE event_ids (
    site        text        NOT NULL,
    event_id    text        NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (site, event_id)
);

-- ensure_event_partition creates the partition of events for one UTC day
-- when it is missing, and reports whether it did. Rows of that day already
-- in the default partition move into the new one.
CREATE FUNCTION ensure_event_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    part text := 'events_p' || to_char(day, 'YYYYMMDD');
    lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Serialize creators: concurrent collectors may all see the day missing.
    -- This lock mode conflicts with itself and ATTACH but not with inserts,
    -- and taking it makes the check below see tables created meanwhile.
    LOCK TABLE events IN SHARE UPDATE EXCLUSIVE MODE;
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS)', part);
    -- The check lets ATTACH skip scanning the new table.
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (received_at >= %L AND received_at < %L)',
                   part, part || '_range', lo, hi);
    -- Lock the default partition before moving its rows of this day, so none
    -- arrive between the move and ATTACH (which would then fail).
    LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE;
    EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE received_at >= %L AND received_at < %L RETURNING *) '
                   'INSERT INTO %I SELECT * FROM moved', lo, hi, part);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
    RETURN true;
END;
$$;
