-- Touch blobs (rollup_touches) now end with the hour's identities: each
-- visitor's first event with a user id, which attribution stitches the
-- visitor's touches to. Blobs of the previous layout do not carry them:
-- roll every site up again from its events (the dashboard's next RollUp
-- does).
DELETE FROM rollup_touches;
DELETE FROM rollup_users;
DELETE FROM rollup_sessions;
DELETE FROM rollup_spans;
DELETE FROM rollup_hours;
DELETE FROM rollup_hours_all;
DELETE FROM rollup_visitors;
DELETE FROM rollup_state;
