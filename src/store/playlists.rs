//! Playlists and their boards, in order (`playlist_boards`). A board that is deleted drops out
//! of every playlist; one that is renamed stays in under its new slug.
//!
//! Who may see a playlist: whoever may see at least one of its boards, and then only those
//! boards; a playlist with no board left is seen only by callers who see every board.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::tokens::UnknownBoards;
use super::{Db, StoreError, StoreResult};
use crate::domain::{Audience, NewPlaylist, PlaylistPatch, Slug};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlaylistRow {
    #[serde(skip)]
    pub id: i64,
    pub name: String,
    pub title: String,
    pub interval_s: i32,
    /// Board slugs in the order they are shown (those the reader may see, where a reader is given).
    pub boards: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns of a [`PlaylistRow`] from `playlists p`, its boards being those that pass
/// `$every`/`$listed` as an audience (bind `true` and `{}` for all of them).
macro_rules! playlist_columns {
    ($every:literal, $listed:literal) => {
        concat!(
            "p.id, p.name, p.title, p.interval_s, p.created_at, p.updated_at,
             ARRAY(SELECT b.slug FROM playlist_boards pb JOIN boards b ON b.id = pb.board_id
                   WHERE pb.playlist_id = p.id AND ",
            visible_board!("b", $every, $listed),
            " ORDER BY pb.position) AS boards"
        )
    };
}

/// The playlists `audience` may see, by title, each with the boards it may see.
pub async fn list(db: &Db, audience: &Audience) -> StoreResult<Vec<PlaylistRow>> {
    let (every, listed) = audience.sql_filter();
    let rows = sqlx::query_as(concat!(
        "SELECT * FROM (SELECT ",
        playlist_columns!("$1", "$2"),
        " FROM playlists p) p WHERE cardinality(p.boards) > 0 OR $1 ORDER BY p.title, p.name"
    ))
    .bind(every)
    .bind(listed)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Every playlist with all its boards, by name (for an export).
pub async fn all(conn: &mut PgConnection) -> StoreResult<Vec<PlaylistRow>> {
    let rows =
        sqlx::query_as(concat!("SELECT ", playlist_columns!("true", "'{}'"), " FROM playlists p ORDER BY p.name"))
            .fetch_all(conn)
            .await?;
    Ok(rows)
}

/// The playlist as `audience` sees it; `NotFound` when it may see none of its boards, exactly as
/// for a playlist that does not exist.
pub async fn find_visible(db: &Db, name: &str, audience: &Audience) -> StoreResult<PlaylistRow> {
    let (every, listed) = audience.sql_filter();
    let row = sqlx::query_as(concat!(
        "SELECT * FROM (SELECT ",
        playlist_columns!("$2", "$3"),
        " FROM playlists p WHERE p.name = $1) p WHERE cardinality(p.boards) > 0 OR $2"
    ))
    .bind(name)
    .bind(every)
    .bind(listed)
    .fetch_optional(db)
    .await?;
    row.ok_or(StoreError::NotFound)
}

/// The playlist with all its boards, locked until the end of the transaction: what a change
/// starts from, and what decides who may make it.
pub async fn find_locked(conn: &mut PgConnection, name: &str) -> StoreResult<PlaylistRow> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        playlist_columns!("true", "'{}'"),
        " FROM playlists p WHERE p.name = $1 FOR UPDATE"
    ))
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.ok_or(StoreError::NotFound)
}

/// Not audited: a change made for a caller goes through [`super::changes`]. Nothing is stored
/// when a board it names does not exist.
pub async fn create(tx: &mut PgConnection, new: &NewPlaylist) -> StoreResult<Result<PlaylistRow, UnknownBoards>> {
    let id: i64 =
        sqlx::query_scalar("INSERT INTO playlists (name, title, interval_s) VALUES ($1, $2, $3) RETURNING id")
            .bind(new.name.as_str())
            .bind(&new.title)
            .bind(new.interval_s)
            .fetch_one(&mut *tx)
            .await?;
    if let Err(unknown) = set_boards(tx, id, &new.boards).await? {
        return Ok(Err(unknown));
    }
    Ok(Ok(find_locked(tx, &new.name).await?))
}

/// Not audited: see [`create`].
pub async fn update(
    tx: &mut PgConnection,
    name: &str,
    patch: &PlaylistPatch,
) -> StoreResult<Result<PlaylistRow, UnknownBoards>> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "UPDATE playlists SET name = COALESCE($2, name), title = COALESCE($3, title),
                interval_s = COALESCE($4, interval_s), updated_at = now()
         WHERE name = $1 RETURNING id, name",
    )
    .bind(name)
    .bind(patch.name.as_ref().map(|s| s.as_str()))
    .bind(&patch.title)
    .bind(patch.interval_s)
    .fetch_optional(&mut *tx)
    .await?;
    let (id, new_name) = row.ok_or(StoreError::NotFound)?;
    if let Some(boards) = &patch.boards
        && let Err(unknown) = set_boards(tx, id, boards).await?
    {
        return Ok(Err(unknown));
    }
    Ok(Ok(find_locked(tx, &new_name).await?))
}

/// Not audited: see [`create`].
pub async fn delete(conn: &mut PgConnection, name: &str) -> StoreResult<()> {
    let deleted = sqlx::query("DELETE FROM playlists WHERE name = $1").bind(name).execute(conn).await?;
    if deleted.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Replaces the boards of playlist `id`, locking them until the transaction ends so none is
/// deleted in between.
async fn set_boards(tx: &mut PgConnection, id: i64, boards: &[Slug]) -> StoreResult<Result<(), UnknownBoards>> {
    let wanted: Vec<&str> = boards.iter().map(|s| s.as_str()).collect();
    let found: Vec<String> = sqlx::query_scalar("SELECT slug FROM boards WHERE slug = ANY($1) FOR KEY SHARE")
        .bind(&wanted)
        .fetch_all(&mut *tx)
        .await?;
    let unknown: Vec<String> =
        wanted.iter().filter(|w| !found.iter().any(|f| f == *w)).map(|w| w.to_string()).collect();
    if !unknown.is_empty() {
        return Ok(Err(UnknownBoards(unknown)));
    }
    sqlx::query("DELETE FROM playlist_boards WHERE playlist_id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO playlist_boards (playlist_id, position, board_id)
         SELECT $1, t.position, b.id FROM unnest($2::text[]) WITH ORDINALITY AS t(slug, position)
         JOIN boards b ON b.slug = t.slug",
    )
    .bind(id)
    .bind(&wanted)
    .execute(&mut *tx)
    .await?;
    Ok(Ok(()))
}
