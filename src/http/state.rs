use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use super::limits::Limits;
use crate::config::Settings;
use crate::realtime::Realtime;
use crate::store::Db;
use crate::store::event_writer::EventWriter;

/// What every handler can reach: shared, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub realtime: Realtime,
    pub event_writer: EventWriter,
    pub started_at: Instant,
    /// One permit per history response being read or sent (`HISTORY_MAX_READS`).
    pub history_reads: Arc<Semaphore>,
    pub limits: Arc<Limits>,
}

impl AppState {
    /// One pooled connection for handlers that run several queries.
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, crate::store::StoreError> {
        Ok(self.db.acquire().await?)
    }
}
