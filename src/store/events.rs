//! Events: the pushed values, their history, and what the stream delivers.
//!
//! # Ids become visible in id order
//!
//! A plain sequence hands out ids in `nextval` order, but transactions commit in any order: a
//! reader polling `id > last_seen` could see 11 commit before 10 and then skip 10 forever.
//! So every insert takes one transaction-scoped advisory lock, [`EVENT_WRITER_LOCK`], *before*
//! it draws its ids, and holds it until its commit is visible: PostgreSQL makes a commit
//! visible to new snapshots before it releases the transaction's locks. Writers are thereby
//! serialized from id draw to commit, so id order is commit order, for single pushes and for
//! batches alike (a batch draws all its ids under one lock, in item order). Everything else a
//! push does (parsing, validation, widget lookup, locking the widgets) happens before the lock;
//! the locked part is one single-statement transaction: lock, insert, commit in one round trip.
//!
//! The price is that commits of events cannot overlap, which bounds single pushes at roughly
//! one WAL flush each; batches amortize it (see BENCHMARKS.md).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use sqlx::postgres::PgRow;
use sqlx::types::Json as SqlJson;
use sqlx::{PgConnection, PgExecutor, Row};

use super::rows::decode_each;
use super::widgets::WidgetRow;
use super::{StoreError, StoreResult};
use crate::domain::{Audience, Value, WidgetKind};

/// The advisory lock key serializing event inserts (an arbitrary constant, "DASH" in ASCII).
pub const EVENT_WRITER_LOCK: i64 = 0x4441_5348;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub board: String,
    pub widget: String,
    #[sqlx(try_from = "String")]
    pub kind: WidgetKind,
    pub value: SqlJson<Json>,
    #[serde(serialize_with = "millis")]
    pub created_at: DateTime<Utc>,
}

fn millis<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// The shared head of this module's queries, as a macro so `concat!` keeps them `&'static str`.
macro_rules! select_events {
    () => {
        "SELECT e.id, b.slug AS board, w.key AS widget, w.kind, e.value, e.created_at
                      FROM events e JOIN widgets w ON w.id = e.widget_id JOIN boards b ON b.id = e.board_id"
    };
}

/// A value ready to insert into one widget.
pub struct NewEvent<'a> {
    pub widget: &'a WidgetRow,
    pub value: Value,
}

/// Inserts the events in one transaction, ids in the given order (see the module docs), or
/// none of them with [`StoreError::NotFound`] when one of their widgets is gone.
///
/// The widgets are locked (`FOR KEY SHARE`, as a foreign key check would) once each, before the
/// writer lock, rather than checked by a foreign key once per row under it: that per-row check
/// was half of the time a batch held the writer lock. A widget deleted meanwhile waits for this
/// commit and then takes these events with it (migration `events_lock_their_widgets`). Each
/// event's board is its widget's, as the database has it. Their boards are locked first, as the
/// board's foreign key check did: a board delete or an import that deletes this board's widgets
/// locks the board before its widgets, so the two cannot each hold a widget the other waits for.
pub async fn insert(conn: &mut PgConnection, new: Vec<NewEvent<'_>>) -> StoreResult<Vec<EventRow>> {
    let widget_ids: Vec<i64> = new.iter().map(|e| e.widget.id).collect();
    let distinct_widgets: Vec<i64> = widget_ids.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
    let distinct_boards: Vec<i64> =
        new.iter().map(|e| e.widget.board_id).collect::<BTreeSet<_>>().into_iter().collect();
    let values: Vec<SqlJson<&serde_json::Map<String, Json>>> = new.iter().map(|e| SqlJson(e.value.as_map())).collect();
    let mut inserted: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "WITH board_lock AS MATERIALIZED (
             SELECT id FROM boards WHERE id = ANY($5::bigint[]) ORDER BY id FOR KEY SHARE),
         widget_lock AS MATERIALIZED (
             SELECT id, board_id FROM widgets
             WHERE id = ANY($2::bigint[]) AND (SELECT count(*) FROM board_lock) >= 0
             FOR KEY SHARE),
         writer_lock AS MATERIALIZED (
             SELECT pg_advisory_xact_lock($1) FROM (SELECT count(*) AS found FROM widget_lock) locked
             WHERE locked.found = cardinality($2::bigint[]))
         INSERT INTO events (board_id, widget_id, value)
         SELECT widget.board_id, item.widget_id, item.value
         FROM writer_lock, unnest($3::bigint[], $4::jsonb[]) WITH ORDINALITY AS item (widget_id, value, n)
              JOIN widget_lock widget ON widget.id = item.widget_id
         ORDER BY item.n
         RETURNING id, created_at",
    )
    .bind(EVENT_WRITER_LOCK)
    .bind(distinct_widgets)
    .bind(widget_ids)
    .bind(values)
    .bind(distinct_boards)
    .fetch_all(conn)
    .await?;
    // All or nothing: no writer lock, so no rows, when a widget was not there to lock.
    if inserted.len() != new.len() {
        return Err(StoreError::NotFound);
    }
    // Ids were drawn in item order; RETURNING's row order is not promised, so restore it.
    inserted.sort_unstable_by_key(|(id, _)| *id);
    Ok(new
        .into_iter()
        .zip(inserted)
        .map(|(event, (id, created_at))| EventRow {
            id,
            board: event.widget.board.clone(),
            widget: event.widget.key.clone(),
            kind: event.widget.kind,
            value: SqlJson(event.value.into_json()),
            created_at,
        })
        .collect())
}

/// The newest event id in the database, 0 when there is none.
pub async fn last_id(db: impl PgExecutor<'_>) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT COALESCE(max(id), 0) FROM events").fetch_one(db).await?)
}

/// The newest event id of the boards `audience` may see, 0 when there is none.
pub async fn last_visible_id(db: impl PgExecutor<'_>, audience: &Audience) -> StoreResult<i64> {
    let (every, listed) = audience.sql_filter();
    let newest = sqlx::query_scalar(newest_visible_event!("$1", "$2")).bind(every).bind(listed).fetch_one(db).await?;
    Ok(newest)
}

/// How much one read of events returns: at most `rows` rows, and rows only while the values
/// before them add up to less than `bytes`, so the first row always comes and a page goes over
/// `bytes` by less than one value. Values are measured as `octet_length(value::text)`, like the
/// events table's size check.
#[derive(Debug, Clone, Copy)]
pub struct PageBound {
    pub rows: i64,
    pub bytes: i64,
}

/// A query of events cut to a [`PageBound`] (`$1` rows, `$2` bytes; the filter's parameters
/// start at `$3`). The row limit applies first, so PostgreSQL sizes at most that many values.
macro_rules! bounded_page {
    ($($filter:tt)+) => {
        concat!(
            "WITH page AS (",
            select_events!(),
            $($filter)+,
            " ORDER BY e.id LIMIT $1)
             SELECT id, board, widget, kind, value, created_at
             FROM (SELECT page.*, sum(octet_length(value::text)) OVER (ORDER BY id) - octet_length(value::text)
                              AS bytes_before
                   FROM page) sized
             WHERE bytes_before < $2 ORDER BY id"
        )
    };
}

/// A widget's events after `after`, oldest first, cut to `bound`.
pub async fn history(conn: &mut PgConnection, widget_id: i64, after: i64, bound: PageBound) -> StoreResult<EventPage> {
    let rows = sqlx::query(bounded_page!(" WHERE e.widget_id = $3 AND e.id > $4"))
        .bind(bound.rows)
        .bind(bound.bytes)
        .bind(widget_id)
        .bind(after)
        .fetch_all(conn)
        .await?;
    EventPage::decode(&rows)
}

/// Whether a widget has events after `id`: tells a page cut short from the end of its history.
pub async fn widget_has_events_after(conn: &mut PgConnection, widget_id: i64, id: i64) -> StoreResult<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE widget_id = $1 AND id > $2)")
        .bind(widget_id)
        .bind(id)
        .fetch_one(conn)
        .await?)
}

/// The newest `limit` events of a widget, oldest first (a chart's initial points).
pub async fn recent(conn: &mut PgConnection, widget_id: i64, limit: i64) -> StoreResult<Vec<EventRow>> {
    recent_until(conn, widget_id, i64::MAX, limit).await
}

/// The newest `limit` events of a widget with ids up to `until`, oldest first: the history a
/// page renders next to a snapshot whose newest event of this widget is `until`.
pub async fn recent_until(
    conn: &mut PgConnection,
    widget_id: i64,
    until: i64,
    limit: i64,
) -> StoreResult<Vec<EventRow>> {
    let rows =
        sqlx::query(concat!(select_events!(), " WHERE e.widget_id = $1 AND e.id <= $2 ORDER BY e.id DESC LIMIT $3"))
            .bind(widget_id)
            .bind(until)
            .bind(limit)
            .fetch_all(conn)
            .await?;
    let mut events: Vec<EventRow> = decode_each(&rows, "events");
    events.reverse();
    Ok(events)
}

pub async fn latest_of_widget(conn: &mut PgConnection, widget_id: i64) -> StoreResult<Option<EventRow>> {
    Ok(recent(conn, widget_id, 1).await?.pop())
}

/// Widget id → its newest event, for every widget of a board that has one.
pub async fn latest_per_widget(conn: &mut PgConnection, board_id: i64) -> StoreResult<HashMap<i64, EventRow>> {
    let rows = sqlx::query(
        "SELECT w.id AS widget_id, e.id, b.slug AS board, w.key AS widget, w.kind, e.value, e.created_at
         FROM widgets w JOIN boards b ON b.id = w.board_id
         CROSS JOIN LATERAL (SELECT id, value, created_at FROM events
                             WHERE widget_id = w.id ORDER BY id DESC LIMIT 1) e
         WHERE w.board_id = $1",
    )
    .bind(board_id)
    .fetch_all(conn)
    .await?;
    let latest: Vec<LatestRow> = decode_each(&rows, "events");
    Ok(latest.into_iter().map(|row| (row.widget_id, row.event)).collect())
}

#[derive(sqlx::FromRow)]
struct LatestRow {
    widget_id: i64,
    #[sqlx(flatten)]
    event: EventRow,
}

/// What [`after`] read: the events, and how far it read. Rows that cannot be decoded are left
/// out of `events` but counted here, so a reader paging by id moves past them.
#[derive(Debug)]
pub struct EventPage {
    pub events: Vec<EventRow>,
    /// Rows read, decoded or not.
    pub rows_read: usize,
    /// The id of the last row read, decoded or not; `None` when there was none.
    pub last_read: Option<i64>,
    /// The boards of these events that were private when they were read (filled by [`after`],
    /// whose readers pass events on to streams of every audience).
    pub private_boards: HashSet<String>,
}

impl EventPage {
    /// The rows that decode; a reader that pages on goes on after `last_read`, past any that did not.
    fn decode(rows: &[PgRow]) -> StoreResult<Self> {
        let last_read = rows.last().map(|row| row.try_get("id")).transpose()?;
        let private_boards = rows
            .iter()
            .filter(|row| row.try_get("board_private").unwrap_or(false))
            .filter_map(|row| row.try_get("board").ok())
            .collect();
        Ok(Self { events: decode_each(rows, "events"), rows_read: rows.len(), last_read, private_boards })
    }
}

/// Events after `cursor` in id order, at most `limit` rows; `boards` = None means all boards.
/// Each board's visibility is read with its events, so a board made private elsewhere a moment
/// ago is known as such here.
pub async fn after(
    db: impl PgExecutor<'_>,
    cursor: i64,
    boards: Option<&[String]>,
    limit: i64,
) -> StoreResult<EventPage> {
    let rows = sqlx::query(
        "SELECT e.id, b.slug AS board, w.key AS widget, w.kind, e.value, e.created_at,
                b.visibility = 'private' AS board_private
         FROM events e JOIN widgets w ON w.id = e.widget_id JOIN boards b ON b.id = e.board_id
         WHERE e.id > $1 AND ($2::text[] IS NULL OR b.slug = ANY($2)) ORDER BY e.id LIMIT $3",
    )
    .bind(cursor)
    .bind(boards)
    .bind(limit)
    .fetch_all(db)
    .await?;
    EventPage::decode(&rows)
}

/// What a resume has missed: how many events (counted up to the query's limit) and the bytes
/// of their values.
#[derive(Debug, sqlx::FromRow)]
pub struct Backlog {
    pub events: i64,
    pub bytes: i64,
}

/// Which events a resuming stream gets: those of `boards` (None = all) that `audience` may see.
pub struct ReplayScope<'a> {
    pub boards: Option<&'a [String]>,
    pub audience: &'a Audience,
}

/// The backlog of `scope` in `(after, until]`, looking at no more than `limit` events.
pub async fn backlog(
    db: impl PgExecutor<'_>,
    after: i64,
    until: i64,
    scope: ReplayScope<'_>,
    limit: i64,
) -> StoreResult<Backlog> {
    let (every, listed) = scope.audience.sql_filter();
    let backlog = sqlx::query_as(concat!(
        "SELECT count(*) AS events, COALESCE(sum(octet_length(value::text)), 0)::bigint AS bytes
         FROM (SELECT e.value FROM events e JOIN boards b ON b.id = e.board_id
               WHERE e.id > $1 AND e.id <= $2 AND ($3::text[] IS NULL OR b.slug = ANY($3)) AND ",
        visible_board!("b", "$5", "$6"),
        " ORDER BY e.id LIMIT $4) missed"
    ))
    .bind(after)
    .bind(until)
    .bind(scope.boards)
    .bind(limit)
    .bind(every)
    .bind(listed)
    .fetch_one(db)
    .await?;
    Ok(backlog)
}

/// One page of a replay: events of `scope` in `(after, until]`, oldest first.
pub async fn replay_page(
    db: impl PgExecutor<'_>,
    after: i64,
    until: i64,
    scope: ReplayScope<'_>,
    bound: PageBound,
) -> StoreResult<EventPage> {
    let (every, listed) = scope.audience.sql_filter();
    let rows = sqlx::query(bounded_page!(
        " WHERE e.id > $3 AND e.id <= $4 AND ($5::text[] IS NULL OR b.slug = ANY($5)) AND ",
        visible_board!("b", "$6", "$7")
    ))
    .bind(bound.rows)
    .bind(bound.bytes)
    .bind(after)
    .bind(until)
    .bind(scope.boards)
    .bind(every)
    .bind(listed)
    .fetch_all(db)
    .await?;
    EventPage::decode(&rows)
}

/// Deletes up to `limit` events created before `cutoff`, never the newest event of a widget;
/// returns how many. One short statement, so callers delete a large backlog in batches.
pub async fn delete_expired(db: impl PgExecutor<'_>, cutoff: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
    let deleted = sqlx::query(
        "DELETE FROM events WHERE id IN (
             SELECT e.id FROM events e
             WHERE e.created_at < $1
               AND EXISTS (SELECT 1 FROM events newer WHERE newer.widget_id = e.widget_id AND newer.id > e.id)
             LIMIT $2)",
    )
    .bind(cutoff)
    .bind(limit)
    .execute(db)
    .await?;
    Ok(deleted.rows_affected())
}
