-- The dashboard's audit log: sign-ins, failed sign-ins and logouts of each
-- site's dashboard. actor is the dashboard user's own identity ("admin", an
-- OIDC e-mail) or empty; detail the method or why a sign-in failed. No
-- visitor's data and never a password. seq orders entries recorded in the
-- same microsecond.
CREATE TABLE audit_log (
    site   text        NOT NULL,
    seq    bigint      GENERATED ALWAYS AS IDENTITY,
    at     timestamptz NOT NULL,
    actor  text        NOT NULL,
    action text        NOT NULL,
    detail text        NOT NULL,
    PRIMARY KEY (site, seq)
);

-- A site's newest entries first.
CREATE INDEX audit_log_site_at_idx ON audit_log (site, at, seq);
