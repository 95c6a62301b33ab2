-- Playlists: boards shown one after another on a wall screen. The boards are a join table rather
-- than an array of slugs so that a renamed board stays in its playlists and a deleted one drops
-- out of them (ON DELETE CASCADE) with nothing left pointing nowhere.
CREATE TABLE playlists (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    interval_s INTEGER NOT NULL CHECK (interval_s BETWEEN 5 AND 86400),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE playlist_boards (
    playlist_id BIGINT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    board_id    BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    PRIMARY KEY (playlist_id, position),
    UNIQUE (playlist_id, board_id)
);

CREATE INDEX playlist_boards_board_id ON playlist_boards (board_id);

-- A share link admits to one board or to one playlist's boards, never both.
ALTER TABLE shares
    ALTER COLUMN board_id DROP NOT NULL,
    ADD COLUMN playlist_id BIGINT REFERENCES playlists (id) ON DELETE CASCADE,
    ADD CONSTRAINT shares_one_target CHECK ((board_id IS NULL) <> (playlist_id IS NULL));

CREATE INDEX shares_playlist_id ON shares (playlist_id);
