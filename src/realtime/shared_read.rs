//! Reads that the streams opening at the same moment share: one database read per key at a
//! time, not one per open.
//!
//! A crowd of clients connecting at once (20,000 screens after a restart or a network blip)
//! would otherwise each take a pool connection for every read of its open. Measured (issue 13's
//! soak): at 2,000 opens a second on a busy machine, one such read per open alone filled the
//! 20-connection pool, opens waited past its 3 s time-out and were refused with 503, and the
//! clients' retries kept it full, round after round. Here the opens that want the same key wait
//! for one read, and the next read starts when it is done, for every open that arrived
//! meanwhile: at most one connection per key.
//!
//! Freshness: an answer is never older than the call that waits for it. A caller that arrives
//! while a read is under way does not take that read's answer (its snapshot may predate the
//! call); it waits for the next read, which starts only after it joined (each joins before the
//! read takes the waiting list). So a stream that subscribed to the hub before asking for the
//! newest event id still gets every event committed after the read's snapshot live, and a
//! board made visible before the open is found.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::store::{Db, StoreError, StoreResult};

/// What a shared read tells each caller that waited for it.
pub type SharedResult<T> = Result<T, ReadFailed>;

/// A shared read failed: each waiting caller answers as a failed read of its own would.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ReadFailed {
    /// PostgreSQL unreachable, restarting or the pool exhausted: worth retrying shortly.
    pub unavailable: bool,
    pub message: String,
}

impl From<StoreError> for ReadFailed {
    fn from(error: StoreError) -> Self {
        Self { unavailable: matches!(error, StoreError::Unavailable(_)), message: error.to_string() }
    }
}

/// Per key: the callers waiting for its next read.
type Waiting<K, T> = HashMap<K, Vec<oneshot::Sender<SharedResult<T>>>>;

/// How long one read may take before its callers are told the database is unavailable (503).
/// Every caller of a key waits for the read under way: one that never ends (a connection gone
/// silent, which TCP may take many minutes to notice) must not hold every later open with it.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads of `T` by key `K`, shared by the callers that want the same key at the same moment.
/// A key has an entry exactly while a reader task runs for it.
pub struct SharedReads<K, T> {
    waiting: Mutex<Waiting<K, T>>,
    timeout: Duration,
}

impl<K, T> Default for SharedReads<K, T> {
    fn default() -> Self {
        Self::with_timeout(READ_TIMEOUT)
    }
}

impl<K, T> SharedReads<K, T> {
    pub fn with_timeout(timeout: Duration) -> Self {
        Self { waiting: Mutex::default(), timeout }
    }
}

impl<K, T> SharedReads<K, T>
where
    K: Eq + Hash + Clone + Send + 'static,
    T: Clone + Send + 'static,
{
    /// `read(db, key)`'s answer, from a read that started after this call began. When no read
    /// of `key` is under way, this call's `read` does it; otherwise the running reader does, so
    /// every caller of one `SharedReads` passes the same `read`.
    pub async fn read<R, F>(self: &Arc<Self>, db: &Db, key: &K, read: R) -> SharedResult<T>
    where
        R: Fn(Db, K) -> F + Send + 'static,
        F: Future<Output = StoreResult<T>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        if self.join(key, answer) {
            // A task of its own: the reader serves every waiting caller, so it must not end with
            // the request that started it (whose client may leave).
            let reader = Reader { reads: self.clone(), key: key.clone(), done: false };
            tokio::spawn(reader.run(db.clone(), read));
        }
        answered
            .await
            .unwrap_or_else(|_| Err(ReadFailed { unavailable: true, message: "the shared read was cut short".into() }))
    }

    /// Queues `answer` for the next read of `key`; true when no reader runs for it yet, so the
    /// caller must start one.
    fn join(&self, key: &K, answer: oneshot::Sender<SharedResult<T>>) -> bool {
        let mut waiting = self.lock();
        match waiting.get_mut(key) {
            Some(queue) => {
                queue.push(answer);
                false
            }
            None => {
                waiting.insert(key.clone(), vec![answer]);
                true
            }
        }
    }
}

impl<K, T> SharedReads<K, T> {
    fn lock(&self) -> MutexGuard<'_, Waiting<K, T>> {
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads one key until nobody waits.
struct Reader<K: Eq + Hash, T> {
    reads: Arc<SharedReads<K, T>>,
    key: K,
    /// Removed its entry itself; else dropping it (a panic, the runtime shutting down) does,
    /// so later callers start a reader of their own instead of waiting for none.
    done: bool,
}

impl<K, T> Reader<K, T>
where
    K: Eq + Hash + Clone + Send + 'static,
    T: Clone + Send + 'static,
{
    async fn run<R, F>(mut self, db: Db, read: R)
    where
        R: Fn(Db, K) -> F,
        F: Future<Output = StoreResult<T>>,
    {
        let timeout = self.reads.timeout;
        while let Some(batch) = self.next_batch() {
            let answer = match tokio::time::timeout(timeout, read(db.clone(), self.key.clone())).await {
                Ok(read) => read.map_err(ReadFailed::from),
                Err(_) => Err(ReadFailed {
                    unavailable: true,
                    message: format!("the database did not answer within {} s", timeout.as_secs_f64()),
                }),
            };
            // A caller whose client left has dropped its receiver: nothing to tell it.
            batch.into_iter().for_each(|waiter| drop(waiter.send(answer.clone())));
        }
    }

    /// The callers that joined since the last read, or `None` (and the entry gone) when none did.
    fn next_batch(&mut self) -> Option<Vec<oneshot::Sender<SharedResult<T>>>> {
        let mut waiting = self.reads.lock();
        let batch = waiting.get_mut(&self.key).map(std::mem::take).unwrap_or_default();
        if batch.is_empty() {
            // Under the lock that joins take: nobody can join a reader that has gone.
            waiting.remove(&self.key);
            self.done = true;
            return None;
        }
        Some(batch)
    }
}

impl<K: Eq + Hash, T> Drop for Reader<K, T> {
    fn drop(&mut self) {
        if !self.done {
            self.reads.lock().remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use tokio::sync::Notify;

    use super::*;

    fn lazy_db() -> Db {
        crate::store::connect_lazy("postgres://127.0.0.1:1/never-connected").unwrap()
    }

    #[tokio::test]
    async fn a_read_that_never_ends_answers_unavailable_after_the_timeout() {
        let reads = Arc::new(SharedReads::<u8, i64>::with_timeout(Duration::from_millis(50)));
        let answer = reads.read(&lazy_db(), &1, |_, _| std::future::pending()).await;
        assert!(matches!(answer, Err(ReadFailed { unavailable: true, .. })), "{answer:?}");
        assert!(reads.lock().is_empty(), "the key's entry is gone with its reader");
    }

    #[tokio::test]
    async fn a_caller_joining_during_a_read_gets_the_next_read_not_the_one_under_way() {
        let reads = Arc::new(SharedReads::<u8, i64>::default());
        let (count, release) = (Arc::new(AtomicI64::new(0)), Arc::new(Notify::new()));
        let read = {
            let (count, release) = (count.clone(), release.clone());
            move |_: Db, _: u8| {
                let (count, release) = (count.clone(), release.clone());
                async move {
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    if n == 1 {
                        release.notified().await;
                    }
                    Ok(n)
                }
            }
        };
        let db = lazy_db();
        let first = tokio::spawn({
            let (reads, db, read) = (reads.clone(), db.clone(), read.clone());
            async move { reads.read(&db, &7, read).await }
        });
        while count.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let second = tokio::spawn({
            let reads = reads.clone();
            async move { reads.read(&db, &7, read).await }
        });
        while reads.lock().get(&7).is_none_or(Vec::is_empty) {
            tokio::task::yield_now().await;
        }
        release.notify_one();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(second.await.unwrap().unwrap(), 2, "the second caller joined after the first read began");
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }
}
