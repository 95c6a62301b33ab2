-- Share links: read-only admission to one board for whoever holds the link's secret. Only a
-- SHA-256 of each secret is stored; the secret is shown once, when the link is made.
CREATE TABLE shares (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    board_id    BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);

CREATE INDEX shares_board_id ON shares (board_id);
