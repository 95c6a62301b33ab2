//! API tokens. Only a SHA-256 of each secret is stored; a secret is shown once, at creation.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor};
use subtle::ConstantTimeEq;

use super::{Db, StoreError, StoreResult};
use crate::domain::{NewToken, Role};

/// 32 random bytes (256 bits), hex, behind a recognisable prefix.
pub fn generate_secret() -> String {
    format!("dash_{}", crate::config::random_hex(32))
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The columns of a [`TokenColumns`], read from `api_tokens t`; a macro so `concat!` keeps the
/// queries `&'static str`.
macro_rules! token_columns {
    () => {
        "t.id, t.name, t.role, t.board_limited,
         ARRAY(SELECT b.slug FROM token_boards tb JOIN boards b ON b.id = tb.board_id
               WHERE tb.token_id = t.id ORDER BY b.slug) AS boards"
    };
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    #[serde(skip)]
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// `None`: every board.
    pub boards: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Boards that a new token names but that do not exist.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownBoards(pub Vec<String>);

/// Creates a token and returns its secret, which is not stored anywhere. The boards it names are
/// locked until the caller's transaction ends, so none can be deleted in between. Not audited: a
/// change made for a caller goes through [`super::changes`].
pub async fn create(tx: &mut PgConnection, new: &NewToken) -> StoreResult<Result<String, UnknownBoards>> {
    let wanted: Vec<&str> = new.boards.iter().flatten().map(|s| s.as_str()).collect();
    let found: Vec<(i64, String)> = sqlx::query_as("SELECT id, slug FROM boards WHERE slug = ANY($1) FOR KEY SHARE")
        .bind(&wanted)
        .fetch_all(&mut *tx)
        .await?;
    let unknown: Vec<String> =
        wanted.iter().filter(|w| !found.iter().any(|(_, slug)| slug == *w)).map(|w| w.to_string()).collect();
    if !unknown.is_empty() {
        return Ok(Err(UnknownBoards(unknown)));
    }
    let secret = generate_secret();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (name, secret_hash, role, board_limited) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&new.name)
    .bind(&hash(&secret)[..])
    .bind(new.role.as_str())
    .bind(new.boards.is_some())
    .fetch_one(&mut *tx)
    .await?;
    let board_ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    sqlx::query("INSERT INTO token_boards (token_id, board_id) SELECT $1, unnest($2::bigint[])")
        .bind(id)
        .bind(&board_ids)
        .execute(&mut *tx)
        .await?;
    Ok(Ok(secret))
}

/// Every token, revoked ones included, by name.
pub async fn list(db: &Db) -> StoreResult<Vec<TokenRow>> {
    let rows: Vec<ListedRow> = sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        ", t.created_at, t.last_used_at, t.revoked_at FROM api_tokens t ORDER BY t.name"
    ))
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let token = row.token.into_token()?;
            Ok(TokenRow {
                id: token.id,
                name: token.name,
                role: token.role,
                boards: token.boards,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                revoked_at: row.revoked_at,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    token: TokenColumns,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// Not audited: see [`create`].
pub async fn revoke<'c>(db: impl PgExecutor<'c>, name: &str) -> StoreResult<()> {
    let done = sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL")
        .bind(name)
        .execute(db)
        .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// A token that is not revoked, as it is now: its role and the boards it may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Slugs of the boards it is limited to (those deleted since drop out); `None`: every board.
    pub boards: Option<Vec<String>>,
}

#[derive(sqlx::FromRow)]
struct TokenColumns {
    id: i64,
    name: String,
    role: String,
    board_limited: bool,
    boards: Vec<String>,
}

impl TokenColumns {
    fn into_token(self) -> StoreResult<ActiveToken> {
        // The table's CHECK allows only known roles; anything else is a database out of step.
        let role = self.role.parse().map_err(|e| StoreError::Other(sqlx::Error::Decode(format!("role {e}").into())))?;
        Ok(ActiveToken { id: self.id, name: self.name, role, boards: self.board_limited.then_some(self.boards) })
    }
}

/// The live token with this id, if it is still live.
pub async fn find_active(db: &Db, id: i64) -> StoreResult<Option<ActiveToken>> {
    let row: Option<TokenColumns> = sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens t WHERE t.id = $1 AND t.revoked_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(TokenColumns::into_token).transpose()
}

#[derive(sqlx::FromRow)]
struct Presented {
    #[sqlx(flatten)]
    token: TokenColumns,
    secret_hash: Vec<u8>,
    stale: bool,
}

/// The live token whose secret this is, if any, in one query; records when it was used (at most
/// once a minute, so a busy pusher does not write the row on every request).
pub async fn authenticate(db: &Db, secret: &str) -> StoreResult<Option<ActiveToken>> {
    let presented = hash(secret);
    let row: Option<Presented> = sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        ", t.secret_hash, t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS stale
         FROM api_tokens t WHERE t.secret_hash = $1 AND t.revoked_at IS NULL"
    ))
    .bind(&presented[..])
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if !bool::from(row.secret_hash.as_slice().ct_eq(&presented[..])) {
        return Ok(None);
    }
    if row.stale {
        sqlx::query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1").bind(row.token.id).execute(db).await?;
    }
    row.token.into_token().map(Some)
}

/// Constant-time comparison for the bootstrap token of `DASHBOARD_API_TOKEN`.
pub fn matches_bootstrap(secret: &str, bootstrap: &str) -> bool {
    hash(secret).ct_eq(&hash(bootstrap)).into()
}
