-- The source of the event each key stands for, so that a server event (sent
-- with the site's ingest key) supersedes a browser event that took its
-- event_id first (store.Supersedes). Keys stored before this migration count
-- as server events: they are never superseded, as before.
ALTER TABLE event_ids ADD COLUMN source text NOT NULL DEFAULT 'server';
ALTER TABLE event_ids ALTER COLUMN source DROP DEFAULT;
