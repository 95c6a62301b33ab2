-- Who changed what: one row per change made with a token, a session or the command line, written
-- in the transaction of the change itself, so the log holds exactly the changes that happened.
-- Pushed values are not changes of this kind and are not recorded.

CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The token's name ("cli" for the command line); a name, not a key, so the entry outlives
    -- the token.
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    -- What changed (old and new values); never a secret.
    details JSONB NOT NULL DEFAULT '{}'
);

-- The log is read newest first.
CREATE INDEX audit_log_newest ON audit_log (at DESC, id DESC);
