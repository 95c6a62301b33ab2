//! The newest event id a stream's audience may see, read once for all the streams of that
//! audience that open at the same moment.
//!
//! Every stream opens with this read: it is the `hello`'s id and where live frames start. A
//! crowd of clients connecting at once (20,000 screens after a restart or a network blip) would
//! otherwise each take a pool connection for it. Measured (issue 13's soak): at 2,000 opens a
//! second on a busy machine, these reads alone filled the pool, opens waited past its 3 s
//! time-out and were refused with 503, and the clients' retries kept it full, round after
//! round. Here the opens waiting for one audience share one read, and the next read starts
//! when it is done, for every open that arrived meanwhile: at most one connection per audience.
//!
//! Exactness: a read starts only after every open it answers had subscribed to the hub (each
//! joins before the read takes the waiting list), so every event committed after the read's
//! snapshot still reaches each of them live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::domain::Audience;
use crate::store::{Db, StoreError, events};

/// What a shared read tells each open that waited for it.
pub type NewestResult = Result<i64, ReadFailed>;

/// A shared read failed: each waiting open answers as a failed read of its own would.
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

/// Per audience with a read under way: the opens waiting for the next one. An entry exists
/// exactly while a reader task runs for its audience.
#[derive(Default)]
pub struct NewestReads {
    waiting: Mutex<HashMap<Audience, Vec<oneshot::Sender<NewestResult>>>>,
}

impl NewestReads {
    /// The newest event id of the boards `audience` may see, read after this call began.
    pub async fn newest_visible(self: &Arc<Self>, db: &Db, audience: &Audience) -> NewestResult {
        let (answer, answered) = oneshot::channel();
        let start_reader = {
            let mut waiting = self.lock();
            match waiting.get_mut(audience) {
                Some(queue) => {
                    queue.push(answer);
                    false
                }
                None => {
                    waiting.insert(audience.clone(), vec![answer]);
                    true
                }
            }
        };
        if start_reader {
            // A task of its own: the reader serves every waiting open, so it must not end with
            // the request that started it (whose client may leave).
            tokio::spawn(Reader { reads: self.clone(), audience: audience.clone(), done: false }.run(db.clone()));
        }
        answered.await.unwrap_or_else(|_| {
            Err(ReadFailed { unavailable: true, message: "the read of the newest event id was cut short".into() })
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Audience, Vec<oneshot::Sender<NewestResult>>>> {
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads for one audience until nobody waits.
struct Reader {
    reads: Arc<NewestReads>,
    audience: Audience,
    /// Removed its entry itself; else dropping it (a panic, the runtime shutting down) does,
    /// so later opens start a reader of their own instead of waiting for none.
    done: bool,
}

impl Reader {
    async fn run(mut self, db: Db) {
        loop {
            let batch = {
                let mut waiting = self.reads.lock();
                let queue = waiting.get_mut(&self.audience).map(std::mem::take).unwrap_or_default();
                if queue.is_empty() {
                    // Under the lock that joins take: nobody can join a reader that has gone.
                    waiting.remove(&self.audience);
                    self.done = true;
                    return;
                }
                queue
            };
            let newest = events::last_visible_id(&db, &self.audience).await.map_err(ReadFailed::from);
            // An open whose client left has dropped its receiver: nothing to tell it.
            batch.into_iter().for_each(|answer| drop(answer.send(newest.clone())));
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if !self.done {
            self.reads.lock().remove(&self.audience);
        }
    }
}
