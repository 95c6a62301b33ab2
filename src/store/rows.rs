//! Rows decoded one at a time, so that one row this version cannot read (a number an older
//! version stored that no double can hold, say) is logged and skipped instead of failing every
//! page, stream and dispatcher that reads past it.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};

use super::{StoreError, StoreResult};

/// The rows that decode, in order; each one that does not is logged at `warn` with its `id`.
pub fn decode_each<T>(rows: &[PgRow], table: &'static str) -> Vec<T>
where
    T: for<'r> FromRow<'r, PgRow>,
{
    rows.iter()
        .filter_map(|row| T::from_row(row).map_err(|error| log_skipped(table, row.try_get("id").ok(), &error)).ok())
        .collect()
}

/// The one row asked for: `NotFound` when there is none, or when it cannot be decoded (logged).
pub fn decode_one<T>(row: Option<PgRow>, table: &'static str) -> StoreResult<T>
where
    T: for<'r> FromRow<'r, PgRow>,
{
    let row = row.ok_or(StoreError::NotFound)?;
    T::from_row(&row).map_err(|error| {
        log_skipped(table, row.try_get("id").ok(), &error);
        StoreError::NotFound
    })
}

/// Logs a row left out because it cannot be decoded.
pub fn log_skipped(table: &'static str, id: Option<i64>, error: &sqlx::Error) {
    tracing::warn!(table, id, %error, "skipping a row that cannot be decoded");
}
