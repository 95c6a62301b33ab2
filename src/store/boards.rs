use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, Row};

use super::events::EventRow;
use super::rows::log_skipped;
use super::widgets::{WidgetRow, WidgetView};
use super::{Db, StoreError, StoreResult};
use crate::domain::{Audience, BoardPatch, NewBoard, Visibility};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BoardRow {
    #[serde(skip)]
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub columns: i32,
    #[sqlx(try_from = "String")]
    pub visibility: Visibility,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns of a [`BoardRow`].
macro_rules! board_columns {
    () => {
        "id, slug, title, description, columns, visibility, created_at, updated_at"
    };
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BoardSummary {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub board: BoardRow,
    pub widget_count: i64,
    pub last_event_at: Option<DateTime<Utc>>,
}

/// A board as a page renders it: every widget with its latest event, and the newest event id
/// of the boards its reader may see, all read from one snapshot so a stream resumed from
/// `last_event_id` continues exactly where this left off.
#[derive(Debug, Clone, Serialize)]
pub struct BoardSnapshot {
    #[serde(flatten)]
    pub board: BoardRow,
    pub widgets: Vec<WidgetView>,
    pub last_event_id: i64,
}

/// The boards `audience` may see.
pub async fn list(db: &Db, audience: &Audience) -> StoreResult<Vec<BoardSummary>> {
    let (every, listed) = audience.sql_filter();
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        board_columns!(),
        ", (SELECT count(*) FROM widgets w WHERE w.board_id = b.id) AS widget_count,
           (SELECT e.created_at FROM events e WHERE e.board_id = b.id ORDER BY e.id DESC LIMIT 1) AS last_event_at
         FROM boards b WHERE ",
        visible_board!("b", "$1", "$2"),
        " ORDER BY title, slug"
    ))
    .bind(every)
    .bind(listed)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// A board, private or not: for writes and the management pages, whose callers hold a token.
pub async fn find(conn: &mut PgConnection, slug: &str) -> StoreResult<BoardRow> {
    let row = sqlx::query_as(concat!("SELECT ", board_columns!(), " FROM boards WHERE slug = $1"))
        .bind(slug)
        .fetch_optional(conn)
        .await?;
    row.ok_or(StoreError::NotFound)
}

/// Every board, by slug.
pub async fn all(conn: &mut PgConnection) -> StoreResult<Vec<BoardRow>> {
    Ok(sqlx::query_as(concat!("SELECT ", board_columns!(), " FROM boards ORDER BY slug")).fetch_all(conn).await?)
}

/// The board, locked until the end of the transaction: what an update changes from.
pub async fn find_locked(conn: &mut PgConnection, slug: &str) -> StoreResult<BoardRow> {
    let row = sqlx::query_as(concat!("SELECT ", board_columns!(), " FROM boards WHERE slug = $1 FOR UPDATE"))
        .bind(slug)
        .fetch_optional(conn)
        .await?;
    row.ok_or(StoreError::NotFound)
}

/// Whether `audience` may see the board `slug`: `NotFound` for a private board it may not see,
/// exactly as for a board that does not exist.
pub async fn check_visible(conn: &mut PgConnection, slug: &str, audience: &Audience) -> StoreResult<()> {
    let (every, listed) = audience.sql_filter();
    let found: Option<i64> = sqlx::query_scalar(concat!(
        "SELECT b.id FROM boards b WHERE b.slug = $1 AND ",
        visible_board!("b", "$2", "$3")
    ))
    .bind(slug)
    .bind(every)
    .bind(listed)
    .fetch_optional(conn)
    .await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

/// Which of `slugs` name boards `audience` may see.
pub async fn visible(db: &Db, slugs: &[String], audience: &Audience) -> StoreResult<Vec<String>> {
    let (every, listed) = audience.sql_filter();
    let found = sqlx::query_scalar(concat!(
        "SELECT b.slug FROM boards b WHERE b.slug = ANY($1) AND ",
        visible_board!("b", "$2", "$3")
    ))
    .bind(slugs)
    .bind(every)
    .bind(listed)
    .fetch_all(db)
    .await?;
    Ok(found)
}

/// Every board's slug and visibility (the stream's view of which boards are private).
pub async fn visibilities(db: &Db) -> StoreResult<Vec<(String, Visibility)>> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT slug, visibility FROM boards").fetch_all(db).await?;
    Ok(rows.into_iter().filter_map(|(slug, raw)| Some((slug, raw.try_into().ok()?))).collect())
}

/// One statement, hence one snapshot (even outside a transaction): the board, each widget with
/// its newest event, and the newest event id of the boards `audience` may see (an id of
/// another board would tell an anonymous reader that private boards are busy). One round trip
/// keeps page loads cheap. `NotFound` when the board is not there for `audience`.
pub async fn snapshot(db: &Db, slug: &str, audience: &Audience) -> StoreResult<BoardSnapshot> {
    let (every, listed) = audience.sql_filter();
    let rows: Vec<SnapshotRow> = sqlx::query_as(concat!(
        "SELECT b.id AS board_pk, b.slug, b.title AS board_title, b.description, b.columns, b.visibility,
                b.created_at AS board_created_at, b.updated_at AS board_updated_at,
                (",
        newest_visible_event!("$2", "$3"),
        ") AS last_event_id,
                w.id, w.board_id, b.slug AS board, w.key, w.title, w.kind, w.config, w.position,
                w.created_at, w.updated_at, source_job.last_error_class AS source_error,
                source_job.last_error AS source_error_detail,
                e.id AS event_id, e.value AS event_value, e.created_at AS event_created_at
         FROM boards b
         LEFT JOIN widgets w ON w.board_id = b.id
         LEFT JOIN jobs source_job ON source_job.widget_id = w.id
         LEFT JOIN LATERAL (SELECT id, value, created_at FROM events
                            WHERE widget_id = w.id ORDER BY id DESC LIMIT 1) e ON true
         WHERE b.slug = $1 AND ",
        visible_board!("b", "$2", "$3"),
        " ORDER BY w.position, w.id"
    ))
    .bind(slug)
    .bind(every)
    .bind(listed)
    .fetch_all(db)
    .await?;
    let first = rows.first().ok_or(StoreError::NotFound)?;
    let (board, last_event_id) = (first.board.clone(), first.last_event_id);
    let widgets = rows.into_iter().filter_map(|row| row.widget).collect();
    Ok(BoardSnapshot { board, widgets, last_event_id })
}

/// A row of [`snapshot`]: the board on every row, a widget unless the board has none or the
/// widget cannot be decoded (logged and left out, so the board still shows).
struct SnapshotRow {
    board: BoardRow,
    last_event_id: i64,
    widget: Option<WidgetView>,
}

impl<'r> sqlx::FromRow<'r, PgRow> for SnapshotRow {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let board = BoardRow {
            id: row.try_get("board_pk")?,
            slug: row.try_get("slug")?,
            title: row.try_get("board_title")?,
            description: row.try_get("description")?,
            columns: row.try_get("columns")?,
            visibility: row
                .try_get::<String, _>("visibility")?
                .try_into()
                .map_err(|e: &str| sqlx::Error::Decode(e.into()))?,
            created_at: row.try_get("board_created_at")?,
            updated_at: row.try_get("board_updated_at")?,
        };
        let widget = match row.try_get::<Option<i64>, _>("id")? {
            None => None,
            Some(id) => match WidgetRow::from_row(row) {
                Ok(widget) => {
                    let latest = match row.try_get::<Option<i64>, _>("event_id")? {
                        None => None,
                        Some(id) => latest_event(row, id, &widget)?,
                    };
                    Some(WidgetView { widget, latest })
                }
                Err(error) => {
                    log_skipped("widgets", Some(id), &error);
                    None
                }
            },
        };
        Ok(Self { board, last_event_id: row.try_get("last_event_id")?, widget })
    }
}

/// The widget's newest event of a [`snapshot`] row. One whose value cannot be decoded (a number
/// an older version stored that no double can hold, say) is logged and left out, so the board
/// still shows.
fn latest_event(row: &PgRow, id: i64, widget: &WidgetRow) -> Result<Option<EventRow>, sqlx::Error> {
    let value = match row.try_get("event_value") {
        Ok(value) => value,
        Err(error) => {
            log_skipped("events", Some(id), &error);
            return Ok(None);
        }
    };
    Ok(Some(EventRow {
        id,
        board: widget.board.clone(),
        widget: widget.key.clone(),
        kind: widget.kind,
        value,
        created_at: row.try_get("event_created_at")?,
    }))
}

/// Not audited: a change made for a caller goes through [`super::changes`].
pub async fn create<'c>(db: impl PgExecutor<'c>, new: &NewBoard) -> StoreResult<BoardRow> {
    let row = sqlx::query_as(concat!(
        "INSERT INTO boards (slug, title, description, columns, visibility) VALUES ($1, $2, $3, $4, $5) RETURNING ",
        board_columns!()
    ))
    .bind(new.slug.as_str())
    .bind(&new.title)
    .bind(&new.description)
    .bind(new.columns)
    .bind(new.visibility.as_str())
    .fetch_one(db)
    .await?;
    Ok(row)
}

/// Not audited: see [`create`].
pub async fn update<'c>(db: impl PgExecutor<'c>, slug: &str, patch: &BoardPatch) -> StoreResult<BoardRow> {
    let row = sqlx::query_as(concat!(
        "UPDATE boards SET slug = COALESCE($2, slug), title = COALESCE($3, title),
                description = COALESCE($4, description), columns = COALESCE($5, columns),
                visibility = COALESCE($6, visibility), updated_at = now()
         WHERE slug = $1 RETURNING ",
        board_columns!()
    ))
    .bind(slug)
    .bind(patch.slug.as_ref().map(|s| s.as_str()))
    .bind(&patch.title)
    .bind(&patch.description)
    .bind(patch.columns)
    .bind(patch.visibility.map(Visibility::as_str))
    .fetch_optional(db)
    .await?;
    row.ok_or(StoreError::NotFound)
}

/// Not audited: see [`create`].
pub async fn delete<'c>(db: impl PgExecutor<'c>, slug: &str) -> StoreResult<()> {
    let deleted = sqlx::query("DELETE FROM boards WHERE slug = $1").bind(slug).execute(db).await?;
    if deleted.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
