-- Finding one person among millions of events: journeys, erasure and
-- one person's export look events up by visitor id, user id and email
-- digest. Partial indexes skip the events without the id (most events
-- carry no user id or user data), which keeps their cost to ingest small.
CREATE INDEX events_site_visitor_idx ON events (site, visitor_id) WHERE visitor_id IS NOT NULL;
CREATE INDEX events_site_user_idx ON events (site, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX events_site_email_idx ON events (site, (user_data ->> 'em')) WHERE user_data IS NOT NULL;
