//! Retention: deletes events older than `EVENTS_RETENTION_DAYS`, always keeping the newest
//! event of each widget (so every widget still shows its last value).
//!
//! It deletes in batches of [`BATCH`] ids, each its own short statement: no lock is held for
//! long, and pushes never wait on it (they take the event-writer lock, which deleting does not,
//! and never touch old rows).

use chrono::{Duration, Utc};

use super::JobContext;
use crate::store::events;

pub const BATCH: i64 = 5000;

/// Deletes batch after batch until none is left; says how many went.
pub async fn run(ctx: &JobContext) -> anyhow::Result<String> {
    let days = ctx.settings.events_retention_days;
    let cutoff = Utc::now() - Duration::days(i64::from(days));
    let mut deleted = 0;
    loop {
        let batch = events::delete_expired(&ctx.db, cutoff, BATCH).await?;
        deleted += batch;
        if batch < BATCH as u64 {
            break;
        }
    }
    Ok(format!("deleted {deleted} events older than {days} days"))
}
