use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, Row};

use super::events::EventRow;
use super::rows::log_skipped;
use super::widgets::{WidgetRow, WidgetView};
use super::{Db, StoreError, StoreResult};
use crate::domain::{BoardPatch, NewBoard};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BoardRow {
    #[serde(skip)]
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub columns: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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
/// of the whole database, all read from one snapshot so a stream resumed from
/// `last_event_id` continues exactly where this left off.
#[derive(Debug, Clone, Serialize)]
pub struct BoardSnapshot {
    #[serde(flatten)]
    pub board: BoardRow,
    pub widgets: Vec<WidgetView>,
    pub last_event_id: i64,
}

pub async fn list(db: &Db) -> StoreResult<Vec<BoardSummary>> {
    let rows = sqlx::query_as(
        "SELECT id, slug, title, description, columns, created_at, updated_at,
                (SELECT count(*) FROM widgets w WHERE w.board_id = b.id) AS widget_count,
                (SELECT e.created_at FROM events e WHERE e.board_id = b.id ORDER BY e.id DESC LIMIT 1) AS last_event_at
         FROM boards b ORDER BY title, slug",
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// The head of [`find`] and [`find_locked`], as a macro so `concat!` keeps them `&'static str`.
macro_rules! select_board {
    () => {
        "SELECT id, slug, title, description, columns, created_at, updated_at FROM boards WHERE slug = $1"
    };
}

pub async fn find(conn: &mut PgConnection, slug: &str) -> StoreResult<BoardRow> {
    let row = sqlx::query_as(select_board!()).bind(slug).fetch_optional(conn).await?;
    row.ok_or(StoreError::NotFound)
}

/// The board, locked until the end of the transaction: what an update changes from.
pub async fn find_locked(conn: &mut PgConnection, slug: &str) -> StoreResult<BoardRow> {
    let row = sqlx::query_as(concat!(select_board!(), " FOR UPDATE")).bind(slug).fetch_optional(conn).await?;
    row.ok_or(StoreError::NotFound)
}

pub async fn exists(db: &Db, slugs: &[String]) -> StoreResult<Vec<String>> {
    let found = sqlx::query_scalar("SELECT slug FROM boards WHERE slug = ANY($1)").bind(slugs).fetch_all(db).await?;
    Ok(found)
}

/// One statement, hence one snapshot (even outside a transaction): the board, each widget with
/// its newest event, and the newest event id overall. One round trip keeps page loads cheap.
pub async fn snapshot(db: &Db, slug: &str) -> StoreResult<BoardSnapshot> {
    let rows: Vec<SnapshotRow> = sqlx::query_as(
        "SELECT b.id AS board_pk, b.slug, b.title AS board_title, b.description, b.columns,
                b.created_at AS board_created_at, b.updated_at AS board_updated_at,
                (SELECT COALESCE(max(id), 0) FROM events) AS last_event_id,
                w.id, w.board_id, b.slug AS board, w.key, w.title, w.kind, w.config, w.position,
                w.created_at, w.updated_at, source_job.last_error_class AS source_error,
                source_job.last_error AS source_error_detail,
                e.id AS event_id, e.value AS event_value, e.created_at AS event_created_at
         FROM boards b
         LEFT JOIN widgets w ON w.board_id = b.id
         LEFT JOIN jobs source_job ON source_job.widget_id = w.id
         LEFT JOIN LATERAL (SELECT id, value, created_at FROM events
                            WHERE widget_id = w.id ORDER BY id DESC LIMIT 1) e ON true
         WHERE b.slug = $1
         ORDER BY w.position, w.id",
    )
    .bind(slug)
    .fetch_all(db)
    .await?;
    let first = rows.first().ok_or(StoreError::NotFound)?;
    let (board, last_event_id) = (first.board.clone(), first.last_event_id);
    let widgets = rows.into_iter().filter_map(|row| row.widget).collect();
    Ok(BoardSnapshot { board, widgets, last_event_id })
}

/// A row of [`snapshot`]: the board on every row, a widget unless the board has none.
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
            created_at: row.try_get("board_created_at")?,
            updated_at: row.try_get("board_updated_at")?,
        };
        let widget = match row.try_get::<Option<i64>, _>("id")? {
            None => None,
            Some(_) => {
                let widget = WidgetRow::from_row(row)?;
                let latest = match row.try_get::<Option<i64>, _>("event_id")? {
                    None => None,
                    Some(id) => latest_event(row, id, &widget)?,
                };
                Some(WidgetView { widget, latest })
            }
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
        kind: widget.kind.clone(),
        value,
        created_at: row.try_get("event_created_at")?,
    }))
}

/// Not audited: a change made for a caller goes through [`super::changes`].
pub async fn create<'c>(db: impl PgExecutor<'c>, new: &NewBoard) -> StoreResult<BoardRow> {
    let row = sqlx::query_as("INSERT INTO boards (slug, title, description, columns) VALUES ($1, $2, $3, $4) RETURNING id, slug, title, description, columns, created_at, updated_at")
    .bind(new.slug.as_str())
    .bind(&new.title)
    .bind(&new.description)
    .bind(new.columns)
    .fetch_one(db)
    .await?;
    Ok(row)
}

/// Not audited: see [`create`].
pub async fn update<'c>(db: impl PgExecutor<'c>, slug: &str, patch: &BoardPatch) -> StoreResult<BoardRow> {
    let row = sqlx::query_as(
        "UPDATE boards SET slug = COALESCE($2, slug), title = COALESCE($3, title),
                description = COALESCE($4, description), columns = COALESCE($5, columns), updated_at = now()
         WHERE slug = $1 RETURNING id, slug, title, description, columns, created_at, updated_at",
    )
    .bind(slug)
    .bind(patch.slug.as_ref().map(|s| s.as_str()))
    .bind(&patch.title)
    .bind(&patch.description)
    .bind(patch.columns)
    .fetch_optional(db)
    .await?;
    row.ok_or(StoreError::NotFound)
}

/// Not audited: see [`create`].
pub async fn delete<'c>(db: impl PgExecutor<'c>, slug: &str) -> StoreResult<()> {
    let deleted = sqlx::query("DELETE FROM boards WHERE slug = $1").bind(slug).execute(db).await?;
    if deleted.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
