//! Short-lived per-process caches of what is read per board on hot paths: the snapshot JSON of
//! `GET /dashboard/boards/{board}` (wall screens and scripts poll it) and the widget a push goes
//! to. One SQL statement per read would bound both by the database.
//!
//! An entry is dropped as soon as this process learns of a change to its board (see the
//! callers of [`BoardCache::invalidate`]) and expires after [`TTL`] regardless, which bounds
//! staleness when a change made elsewhere is only seen by polling. A read that overlapped an
//! invalidation is not cached, since it may predate the change.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(1);

/// board → key within the board → (value, when it was read).
type Entries<V> = HashMap<String, HashMap<String, (V, Instant)>>;

pub struct BoardCache<V> {
    entries: Mutex<Entries<V>>,
    generation: AtomicU64,
}

impl<V: Clone> BoardCache<V> {
    pub fn new() -> Self {
        Self { entries: Mutex::new(HashMap::new()), generation: AtomicU64::new(0) }
    }

    pub fn invalidate(&self, board: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.lock().remove(board);
    }

    /// The value for `key` on `board`, from the cache or from `load`.
    pub async fn get_or_load<E>(
        &self,
        board: &str,
        key: &str,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        if let Some((value, at)) = self.lock().get(board).and_then(|keys| keys.get(key))
            && at.elapsed() < TTL
        {
            return Ok(value.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let value = load.await?;
        let mut entries = self.lock();
        if self.generation.load(Ordering::Acquire) == generation {
            entries.entry(board.to_string()).or_default().insert(key.to_string(), (value.clone(), Instant::now()));
        }
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<V>> {
        // A panic while holding the lock cannot leave the map inconsistent: recover it.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<V: Clone> Default for BoardCache<V> {
    fn default() -> Self {
        Self::new()
    }
}
