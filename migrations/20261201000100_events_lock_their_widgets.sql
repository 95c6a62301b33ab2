-- Event inserts lock the widgets they write to, once per widget (src/store/events.rs, `insert`),
-- instead of two foreign key checks per row: those checks ran while the insert held the event
-- writer lock and took half of a 1,000-event batch's time under it (BENCHMARKS.md).
--
-- What the foreign keys gave is kept:
-- * an event's widget exists: the insert locks it FOR KEY SHARE (as the check did) and writes
--   nothing when one is gone;
-- * an event's board is its widget's board: the insert takes it from the widget row it locked;
-- * deleting a widget deletes its events, and deleting a board deletes its widgets (a foreign key
--   still) and so their events: the trigger below. A delete that meets an insert in flight waits
--   for its widget lock, then deletes the new events too (in READ COMMITTED, as every delete
--   here runs).
-- While a deploy's older instances still run after this migration, their inserts lock no
-- widget: a widget deleted in the instant between such an insert's lookup and its commit would
-- leave its events behind. Nothing shows them (every read of events joins their widget); they
-- only take room. Stopping the old instances before migrating avoids even that.
ALTER TABLE events
    DROP CONSTRAINT events_board_id_fkey,
    DROP CONSTRAINT events_widget_id_fkey;

CREATE FUNCTION delete_events_of_widget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events WHERE widget_id = OLD.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER widgets_delete_their_events AFTER DELETE ON widgets
    FOR EACH ROW EXECUTE FUNCTION delete_events_of_widget();
