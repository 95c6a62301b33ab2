use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

pub type Db = PgPool;

/// Requests wait at most this long for a connection; then they get a 503 instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_CONNECTIONS: u32 = 20;

fn options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    Ok(PgConnectOptions::from_str(url)?.application_name("dashboard").log_statements(tracing::log::LevelFilter::Trace))
}

fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new().max_connections(MAX_CONNECTIONS).acquire_timeout(ACQUIRE_TIMEOUT)
}

/// Connects now, so a bad URL or an unreachable server is reported at start-up.
pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
    let options = options(url)?;
    // A pool that cannot connect only says that it gave up waiting; one plain attempt says why
    // (refused, unknown host, no such database, bad password).
    let first = tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 3 s")))??;
    first.close().await?;
    pool_options().connect_with(options).await
}

/// A one-line reason for a failed [`connect`]: the URL without its password, the cause, and
/// the fix for a database that does not exist yet.
pub fn connect_failure(url: &str, error: &sqlx::Error) -> String {
    let missing = error.as_database_error().and_then(|e| e.code()).is_some_and(|code| code == "3D000");
    let hint = if missing { " (`dashboard migrate` creates it)" } else { "" };
    format!("cannot connect to the database at {}: {error}{hint}", crate::config::redact_url(url))
}

/// A pool that connects on first use (tests of a database that is down).
pub fn connect_lazy(url: &str) -> Result<Db, sqlx::Error> {
    Ok(pool_options().connect_lazy_with(options(url)?))
}

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub async fn migrate(db: &Db) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(db).await
}

/// Names the set of migrations this binary embeds (their versions and checksums), so a test
/// harness can keep one migrated template database per set.
pub fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for migration in MIGRATOR.iter() {
        hasher.update(migration.version.to_be_bytes());
        hasher.update(&migration.checksum);
    }
    hex::encode(&hasher.finalize()[..6])
}

/// Whether every migration this binary embeds has been applied. It only reads: commands that
/// should not change the schema ask this instead of migrating.
pub async fn is_migrated(db: &Db) -> Result<bool, sqlx::Error> {
    let table = MIGRATOR.table_name.as_ref();
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(table).fetch_one(db).await?;
    if !has_table {
        return Ok(false);
    }
    let applied: HashSet<i64> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT version FROM {table} WHERE success")))
            .fetch_all(db)
            .await?
            .into_iter()
            .collect();
    Ok(MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).all(|m| applied.contains(&m.version)))
}

/// Creates the database named in `url` when it does not exist, connecting to `postgres` to do so.
/// Returns whether it was created.
pub async fn create_database_if_missing(url: &str) -> Result<bool, sqlx::Error> {
    let target = options(url)?;
    let name = target.get_database().unwrap_or("postgres").to_string();
    let mut admin = PgConnection::connect_with(&target.clone().database("postgres")).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await?;
    if !exists {
        // Identifiers cannot be bound as parameters; the name is quoted, with its quotes doubled.
        let create = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(sqlx::AssertSqlSafe(create)).execute(&mut admin).await {
            Ok(_) => {}
            // Another process created it at the same moment: fine.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    admin.close().await?;
    Ok(!exists)
}
