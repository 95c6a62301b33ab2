-- Token roles: what a token may do, and optionally the boards it is limited to. Tokens made
-- before roles existed could do everything, so they become admins.

ALTER TABLE api_tokens
    ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('read', 'push', 'editor', 'admin')),
    -- Kept apart from the list below: a limited token whose boards were all deleted acts on no
    -- board, it does not become unlimited.
    ADD COLUMN board_limited BOOLEAN NOT NULL DEFAULT false,
    ADD CONSTRAINT api_tokens_admin_unlimited CHECK (NOT (role = 'admin' AND board_limited));
ALTER TABLE api_tokens ALTER COLUMN role DROP DEFAULT;

-- The boards a board-limited token acts on. Deleting a board drops it from every list.
CREATE TABLE token_boards (
    token_id BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    board_id BIGINT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, board_id)
);

CREATE INDEX token_boards_board_id ON token_boards (board_id);
