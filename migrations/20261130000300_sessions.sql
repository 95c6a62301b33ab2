-- Signed-in sessions of the management pages, kept on the server so that signing out, revoking
-- the token or rotating DASHBOARD_API_TOKEN ends them everywhere. The browser holds only the
-- session secret; this table holds its SHA-256.

CREATE TABLE sessions (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret_hash           BYTEA NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    -- The credential the session was opened with: a token, or DASHBOARD_API_TOKEN by an HMAC of
    -- its value keyed by SECRET_KEY_BASE (never the value itself).
    token_id              BIGINT REFERENCES api_tokens (id) ON DELETE CASCADE,
    bootstrap_fingerprint BYTEA CHECK (octet_length(bootstrap_fingerprint) = 32),
    csrf_token            TEXT NOT NULL,
    -- A message for the next page ("Board saved."), shown once.
    flash                 TEXT,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at            TIMESTAMPTZ NOT NULL,
    CHECK ((token_id IS NULL) <> (bootstrap_fingerprint IS NULL))
);

CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_token_id ON sessions (token_id);
