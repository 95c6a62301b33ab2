//! All SQL lives here, one module per table. Functions take a pool or a connection and return
//! plain rows; the HTTP layer turns [`StoreError`] into responses.

pub mod audit;
/// The SQL condition "board `$alias` is visible to the audience whose [`sql_filter`] is bound
/// as `$every` and `$listed`", a macro so `concat!` keeps queries `&'static str`.
///
/// [`sql_filter`]: crate::domain::Audience::sql_filter
macro_rules! visible_board {
    ($alias:literal, $every:literal, $listed:literal) => {
        concat!(
            "(",
            $alias,
            ".visibility = 'public' OR ",
            $every,
            "::boolean OR ",
            $alias,
            ".slug = ANY(",
            $listed,
            "::text[]))"
        )
    };
}

/// The newest event id of the boards visible to the audience bound as `$every` and `$listed`
/// (0 when there is none): one index probe per board, not a scan of the events.
macro_rules! newest_visible_event {
    ($every:literal, $listed:literal) => {
        concat!(
            "SELECT COALESCE(max(newest.id), 0) FROM boards vb
             CROSS JOIN LATERAL (SELECT max(e.id) AS id FROM events e WHERE e.board_id = vb.id) newest
             WHERE ",
            visible_board!("vb", $every, $listed)
        )
    };
}

pub mod board_file;
pub mod boards;
pub mod changes;
pub mod database;
pub mod demo;
pub mod event_writer;
pub mod events;
pub mod jobs;
pub mod playlists;
mod rows;
pub mod sessions;
pub mod shares;
pub mod tokens;
pub mod widgets;

pub use database::{
    Db, connect, connect_failure, connect_lazy, create_database_if_missing, is_migrated, migrate,
    migrations_fingerprint,
};

/// What the HTTP layer needs to know about a failed query.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint: which one, so the error can name the field.
    #[error("already exists ({constraint})")]
    Conflict { constraint: String },
    /// PostgreSQL refused a value (SQLSTATE class 22, data exception): the input's fault.
    #[error("invalid data: {0}")]
    InvalidData(sqlx::Error),
    /// PostgreSQL is unreachable or the pool is exhausted: worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::Conflict { constraint: db.constraint().unwrap_or_default().to_string() }
            }
            // A referenced board or widget vanished between lookup and insert.
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Self::NotFound,
            sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("22")) => Self::InvalidData(error),
            sqlx::Error::Database(db) if is_connection_loss(db.code().as_deref()) => Self::Unavailable(error),
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
                Self::Unavailable(error)
            }
            sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => Self::Unavailable(error),
            _ => Self::Other(error),
        }
    }
}

/// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, restart).
fn is_connection_loss(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
}

pub type StoreResult<T> = Result<T, StoreError>;
