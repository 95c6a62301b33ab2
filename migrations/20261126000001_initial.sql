-- Boards, widgets, events and API tokens (SPEC §4). The rules of §4 are enforced here too,
-- so no code path can write a row the API would refuse.

CREATE TABLE boards (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    title       TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    columns     INTEGER NOT NULL DEFAULT 4 CHECK (columns BETWEEN 1 AND 12),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE widgets (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    board_id   BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    key        TEXT NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    title      TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    kind       TEXT NOT NULL CHECK (kind IN ('number', 'gauge', 'line', 'text', 'list', 'status')),
    config     JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    position   INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (board_id, key)
);

CREATE INDEX widgets_board_position ON widgets (board_id, position, id);

-- Event ids come from this sequence, but only while the inserting transaction holds the
-- event-writer lock (see src/store/events.rs): that is what makes ids visible in id order.
CREATE SEQUENCE events_id_seq AS BIGINT;

CREATE TABLE events (
    id         BIGINT PRIMARY KEY DEFAULT nextval('events_id_seq'),
    board_id   BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    widget_id  BIGINT NOT NULL REFERENCES widgets (id) ON DELETE CASCADE,
    value      JSONB NOT NULL CHECK (jsonb_typeof(value) = 'object' AND octet_length(value::text) <= 65536),
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);

ALTER SEQUENCE events_id_seq OWNED BY events.id;

CREATE INDEX events_widget_id ON events (widget_id, id);
CREATE INDEX events_board_id ON events (board_id, id);
CREATE INDEX events_created_at ON events (created_at);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
    secret_hash  BYTEA NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
