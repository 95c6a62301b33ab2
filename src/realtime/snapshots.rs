//! A short-lived cache of board snapshots as JSON, for `GET /dashboard/boards/{board}`: wall
//! screens and scripts poll it, and one SQL statement per read would bound reads by the
//! database. An entry is dropped as soon as this process learns of a change to its board (a
//! local push, the dispatcher delivering an event, a structure change) and expires after
//! [`TTL`] regardless, which bounds staleness when a change elsewhere is only seen by polling.
//! Each entry is a whole snapshot read in one statement, so its `last_event_id` stays exact.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

pub const TTL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct SnapshotCache {
    entries: Mutex<HashMap<String, (Bytes, Instant)>>,
    /// Bumped by every invalidation; a read that overlapped one is not cached, since it may
    /// predate the change.
    generation: AtomicU64,
}

impl SnapshotCache {
    pub fn invalidate(&self, board: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.lock().remove(board);
    }

    /// The board's snapshot JSON, from the cache or from `load`.
    pub async fn get_or_load<E>(&self, board: &str, load: impl Future<Output = Result<Bytes, E>>) -> Result<Bytes, E> {
        if let Some((json, at)) = self.lock().get(board)
            && at.elapsed() < TTL
        {
            return Ok(json.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let json = load.await?;
        let mut entries = self.lock();
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(board.to_string(), (json.clone(), Instant::now()));
        }
        Ok(json)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Bytes, Instant)>> {
        // A panic while holding the lock cannot leave the map inconsistent: recover it.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
