use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Acquire, PgConnection};

use super::events;
use super::widgets::{self, WidgetView};
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

pub async fn find(conn: &mut PgConnection, slug: &str) -> StoreResult<BoardRow> {
    let row = sqlx::query_as(
        "SELECT id, slug, title, description, columns, created_at, updated_at FROM boards WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(conn)
    .await?;
    row.ok_or(StoreError::NotFound)
}

pub async fn exists(db: &Db, slugs: &[String]) -> StoreResult<Vec<String>> {
    let found = sqlx::query_scalar("SELECT slug FROM boards WHERE slug = ANY($1)").bind(slugs).fetch_all(db).await?;
    Ok(found)
}

pub async fn snapshot(db: &Db, slug: &str) -> StoreResult<BoardSnapshot> {
    let mut conn = db.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let board = find(&mut tx, slug).await?;
    let widgets = widgets::list_with_latest(&mut tx, &board).await?;
    let last_event_id = events::last_id(&mut *tx).await?;
    tx.commit().await?;
    Ok(BoardSnapshot { board, widgets, last_event_id })
}

pub async fn create(db: &Db, new: &NewBoard) -> StoreResult<BoardRow> {
    let row = sqlx::query_as("INSERT INTO boards (slug, title, description, columns) VALUES ($1, $2, $3, $4) RETURNING id, slug, title, description, columns, created_at, updated_at")
    .bind(new.slug.as_str())
    .bind(&new.title)
    .bind(&new.description)
    .bind(new.columns)
    .fetch_one(db)
    .await?;
    Ok(row)
}

pub async fn update(db: &Db, slug: &str, patch: &BoardPatch) -> StoreResult<BoardRow> {
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

pub async fn delete(db: &Db, slug: &str) -> StoreResult<()> {
    let deleted = sqlx::query("DELETE FROM boards WHERE slug = $1").bind(slug).execute(db).await?;
    if deleted.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
