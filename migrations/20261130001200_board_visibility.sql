-- Who may see a board: everyone (public) or only callers allowed to (private). Boards that
-- existed before stay public, as they were.
ALTER TABLE boards
    ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private'));
