//! Signed-in sessions of the management pages. Only a SHA-256 of each session secret is stored;
//! a row lasts until it expires, is signed out, or its credential stops being valid.

use super::tokens::{self, ActiveToken, hash};
use super::{Db, StoreResult};

/// What a session was opened with.
pub enum Opener {
    Token(i64),
    /// `DASHBOARD_API_TOKEN`, by its fingerprint.
    Bootstrap([u8; 32]),
}

pub struct NewSession<'a> {
    pub secret: &'a str,
    pub opener: Opener,
    pub csrf: &'a str,
    pub flash: &'a str,
    /// How long it lasts, counted by the database's clock (which checks it).
    pub hours: i32,
}

/// A live session: unexpired, and its credential still valid.
pub struct LiveSession {
    pub id: i64,
    /// `None`: opened with `DASHBOARD_API_TOKEN`, whose fingerprint still matches.
    pub token: Option<ActiveToken>,
    pub csrf_token: String,
    pub flash: Option<String>,
}

pub async fn create(db: &Db, new: &NewSession<'_>) -> StoreResult<()> {
    let (token_id, fingerprint) = match &new.opener {
        Opener::Token(id) => (Some(*id), None),
        Opener::Bootstrap(fingerprint) => (None, Some(&fingerprint[..])),
    };
    sqlx::query(
        "INSERT INTO sessions (secret_hash, token_id, bootstrap_fingerprint, csrf_token, flash, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))",
    )
    .bind(&hash(new.secret)[..])
    .bind(token_id)
    .bind(fingerprint)
    .bind(new.csrf)
    .bind(new.flash)
    .bind(new.hours)
    .execute(db)
    .await?;
    Ok(())
}

/// The live session of this secret, with its token as it is now (role and boards included, so
/// a change applies to the session's next request). `bootstrap` is the fingerprint of the
/// current `DASHBOARD_API_TOKEN` (`None` when unset): a session opened with another value is over.
pub async fn find_live(db: &Db, secret: &str, bootstrap: Option<[u8; 32]>) -> StoreResult<Option<LiveSession>> {
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.id, t.id AS token_id, s.csrf_token, s.flash
         FROM sessions s LEFT JOIN api_tokens t ON t.id = s.token_id AND t.revoked_at IS NULL
         WHERE s.secret_hash = $1 AND s.expires_at > now()
           AND (t.id IS NOT NULL OR s.bootstrap_fingerprint = $2)",
    )
    .bind(&hash(secret)[..])
    .bind(bootstrap.as_ref().map(|f| &f[..]))
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token = match row.token_id {
        // Revoked since the row above was read: the session is over.
        Some(id) => match tokens::find_active(db, id).await? {
            Some(token) => Some(token),
            None => return Ok(None),
        },
        None => None,
    };
    Ok(Some(LiveSession { id: row.id, token, csrf_token: row.csrf_token, flash: row.flash }))
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    token_id: Option<i64>,
    csrf_token: String,
    flash: Option<String>,
}

/// Leaves a message for the next page (`None`: the message was shown).
pub async fn set_flash(db: &Db, id: i64, message: Option<&str>) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET flash = $2 WHERE id = $1").bind(id).bind(message).execute(db).await?;
    Ok(())
}

/// Signs out: the session ends in every browser and on every instance.
pub async fn delete(db: &Db, id: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(db).await?;
    Ok(())
}

/// Removes expired sessions and those of revoked tokens.
pub async fn delete_dead(db: &Db) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= now()
           OR token_id IN (SELECT id FROM api_tokens WHERE revoked_at IS NOT NULL)",
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
