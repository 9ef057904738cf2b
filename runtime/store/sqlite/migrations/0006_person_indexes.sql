-- Finding one person among many events (see the PostgreSQL schema).
CREATE INDEX events_site_visitor_idx ON events (site, visitor_id) WHERE visitor_id IS NOT NULL;
CREATE INDEX events_site_user_idx ON events (site, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX events_site_email_idx ON events (site, (user_data ->> 'em')) WHERE user_data IS NOT NULL;
