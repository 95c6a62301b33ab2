//! API tokens. Only a SHA-256 of each secret is stored; a secret is shown once, at creation.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgExecutor;
use subtle::ConstantTimeEq;

use super::{Db, StoreError, StoreResult};

/// 32 random bytes (256 bits), hex, behind a recognisable prefix.
pub fn generate_secret() -> String {
    format!("dash_{}", crate::config::random_hex(32))
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct TokenRow {
    #[serde(skip)]
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates a token and returns its secret, which is not stored anywhere.
/// Not audited: a change made for a caller goes through [`super::changes`].
pub async fn create<'c>(db: impl PgExecutor<'c>, name: &str) -> StoreResult<String> {
    let secret = generate_secret();
    sqlx::query("INSERT INTO api_tokens (name, secret_hash) VALUES ($1, $2)")
        .bind(name)
        .bind(&hash(&secret)[..])
        .execute(db)
        .await?;
    Ok(secret)
}

pub async fn list(db: &Db) -> StoreResult<Vec<TokenRow>> {
    let rows = sqlx::query_as("SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY name")
        .fetch_all(db)
        .await?;
    Ok(rows)
}

/// Not audited: see [`create`].
pub async fn revoke<'c>(db: impl PgExecutor<'c>, name: &str) -> StoreResult<()> {
    let done = sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL")
        .bind(name)
        .execute(db)
        .await?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// A token that is not revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveToken {
    pub id: i64,
    pub name: String,
}

/// The live token whose secret this is, if any; records when it was used (at most once a
/// minute, so a busy pusher does not write the row on every request).
pub async fn authenticate(db: &Db, secret: &str) -> StoreResult<Option<ActiveToken>> {
    let presented = hash(secret);
    let row: Option<(i64, String, Vec<u8>, bool)> = sqlx::query_as(
        "SELECT id, name, secret_hash, last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
         FROM api_tokens WHERE secret_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&presented[..])
    .fetch_optional(db)
    .await?;
    let Some((id, name, stored, stale)) = row else { return Ok(None) };
    if !bool::from(stored.as_slice().ct_eq(&presented[..])) {
        return Ok(None);
    }
    if stale {
        sqlx::query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1").bind(id).execute(db).await?;
    }
    Ok(Some(ActiveToken { id, name }))
}

/// Constant-time comparison for the bootstrap token of `DASHBOARD_API_TOKEN`.
pub fn matches_bootstrap(secret: &str, bootstrap: &str) -> bool {
    hash(secret).ct_eq(&hash(bootstrap)).into()
}
