//! Share links. Only a SHA-256 of each secret is stored; a secret is shown once, at creation.
//! A link works while it is neither revoked nor expired, by the database's clock.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::tokens::hash;
use super::{Db, StoreError, StoreResult};
use crate::domain::NewShare;

/// A link "works": the condition on `shares s` every admission checks. Macros, so `concat!`
/// keeps the queries `&'static str`.
macro_rules! works {
    () => {
        "s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now())"
    };
}

/// The columns of a [`ShareRow`], from `shares s` joined with `boards b`.
macro_rules! share_columns {
    () => {
        "s.id, b.slug AS board, s.name, s.created_at, s.expires_at, s.revoked_at,
         COALESCE(s.expires_at <= now(), false) AS expired"
    };
}

/// 32 random bytes (256 bits), hex, like a token's.
pub fn generate_secret() -> String {
    crate::config::random_hex(32)
}

/// The address that admits its holder.
pub fn path_of(secret: &str) -> String {
    format!("/s/{secret}")
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ShareRow {
    pub id: i64,
    pub board: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Past its `expires_at`, by the database's clock.
    pub expired: bool,
}

impl ShareRow {
    pub fn state(&self) -> &'static str {
        match (self.revoked_at, self.expired) {
            (Some(_), _) => "revoked",
            (None, true) => "expired",
            (None, false) => "active",
        }
    }
}

/// Makes a link to the board `slug` and returns it with its secret, which is not stored
/// anywhere. Not audited: a change made for a caller goes through [`super::changes`].
pub async fn create(conn: &mut PgConnection, slug: &str, new: &NewShare) -> StoreResult<(ShareRow, String)> {
    let secret = generate_secret();
    let row = sqlx::query_as(concat!(
        "WITH s AS (INSERT INTO shares (board_id, name, secret_hash, expires_at)
                    SELECT id, $2, $3, $4 FROM boards WHERE slug = $1 RETURNING *)
         SELECT ",
        share_columns!(),
        " FROM s JOIN boards b ON b.id = s.board_id"
    ))
    .bind(slug)
    .bind(&new.name)
    .bind(&hash(&secret)[..])
    .bind(new.expires_at)
    .fetch_optional(conn)
    .await?;
    Ok((row.ok_or(StoreError::NotFound)?, secret))
}

/// The links of one board (`Some`) or of every board, newest first; never their secrets.
pub async fn list(db: &Db, board: Option<&str>) -> StoreResult<Vec<ShareRow>> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        share_columns!(),
        " FROM shares s JOIN boards b ON b.id = s.board_id
         WHERE $1::text IS NULL OR b.slug = $1 ORDER BY s.created_at DESC, s.id DESC"
    ))
    .bind(board)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Revokes link `id` of the board `board` (`None`: whichever board); returns it. `NotFound`
/// when there is no such link that is not revoked already. Not audited: see [`create`].
pub async fn revoke(conn: &mut PgConnection, board: Option<&str>, id: i64) -> StoreResult<ShareRow> {
    let row = sqlx::query_as(concat!(
        "WITH s AS (UPDATE shares SET revoked_at = now()
                    WHERE id = $1 AND revoked_at IS NULL
                      AND ($2::text IS NULL OR board_id = (SELECT id FROM boards WHERE slug = $2))
                    RETURNING *)
         SELECT ",
        share_columns!(),
        " FROM s JOIN boards b ON b.id = s.board_id"
    ))
    .bind(id)
    .bind(board)
    .fetch_optional(conn)
    .await?;
    row.ok_or(StoreError::NotFound)
}

/// A working link presented by a viewer: which link, and the board it admits to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Admission {
    pub id: i64,
    pub board: String,
}

/// The working links among these secrets, in one query.
pub async fn admissions<S: AsRef<str>>(db: &Db, secrets: &[S]) -> StoreResult<Vec<Admission>> {
    let hashes: Vec<Vec<u8>> = secrets.iter().map(|s| hash(s.as_ref()).to_vec()).collect();
    let rows = sqlx::query_as(concat!(
        "SELECT s.id, b.slug AS board FROM shares s JOIN boards b ON b.id = s.board_id
         WHERE s.secret_hash = ANY($1) AND ",
        works!()
    ))
    .bind(&hashes)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// The working link of this secret, for `/s/<secret>`.
pub async fn find_working(db: &Db, secret: &str) -> StoreResult<Option<ShareRow>> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        share_columns!(),
        " FROM shares s JOIN boards b ON b.id = s.board_id WHERE s.secret_hash = $1 AND ",
        works!()
    ))
    .bind(&hash(secret)[..])
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Which of these links still work (the others were revoked, expired or deleted with their board).
pub async fn still_working(db: &Db, ids: &[i64]) -> StoreResult<Vec<i64>> {
    let ids = sqlx::query_scalar(concat!("SELECT s.id FROM shares s WHERE s.id = ANY($1) AND ", works!()))
        .bind(ids)
        .fetch_all(db)
        .await?;
    Ok(ids)
}
