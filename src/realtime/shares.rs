//! Streams admitted by share links end soon after their link stops working (revoked, expired,
//! or its board deleted), on every instance: each process counts the links behind its open
//! streams and, every [`RECHECK`], asks PostgreSQL in one query which of them still work. No
//! message between instances is needed, so a lost one cannot keep a stream open.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::{Frame, Realtime};
use crate::store::{Db, shares};

/// Well within the 5 s in which a stream must end after its link stops working.
pub const RECHECK: Duration = Duration::from_secs(2);

/// How many open streams of this process each link admitted.
#[derive(Default)]
pub struct OpenShares {
    streams: Mutex<HashMap<i64, usize>>,
}

impl OpenShares {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
        // A panic while holding the lock cannot leave the counts inconsistent: recover it.
        self.streams.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn open(&self, ids: &[i64]) {
        let mut streams = self.lock();
        ids.iter().for_each(|id| *streams.entry(*id).or_default() += 1);
    }

    fn close(&self, ids: &[i64]) {
        let mut streams = self.lock();
        for id in ids {
            if let Some(count) = streams.get_mut(id) {
                *count -= 1;
                if *count == 0 {
                    streams.remove(id);
                }
            }
        }
    }

    fn ids(&self) -> Vec<i64> {
        self.lock().keys().copied().collect()
    }
}

/// Held by a stream for as long as it is open: counts the links that admitted it.
pub struct ShareHold {
    realtime: Realtime,
    ids: Vec<i64>,
}

impl ShareHold {
    pub fn new(realtime: &Realtime, ids: Vec<i64>) -> Self {
        realtime.inner.open_shares.open(&ids);
        Self { realtime: realtime.clone(), ids }
    }

    pub fn admitted_by(&self, share: i64) -> bool {
        self.ids.contains(&share)
    }
}

impl Drop for ShareHold {
    fn drop(&mut self) {
        self.realtime.inner.open_shares.close(&self.ids);
    }
}

/// Every [`RECHECK`], ends the streams whose link no longer works.
pub async fn recheck(realtime: Realtime, db: Db) {
    loop {
        tokio::select! {
            _ = realtime.shutdown().cancelled() => return,
            _ = tokio::time::sleep(RECHECK) => {}
        }
        let open = realtime.inner.open_shares.ids();
        if open.is_empty() {
            continue;
        }
        match shares::still_working(&db, &open).await {
            Ok(working) => open
                .iter()
                .filter(|id| !working.contains(id))
                .for_each(|id| realtime.hub().send(Frame::ShareEnded(*id))),
            Err(error) => tracing::warn!(%error, "cannot check the share links of open streams; checking again soon"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_watched_while_a_stream_it_admitted_is_open() {
        let open = OpenShares::default();
        open.open(&[1, 2]);
        open.open(&[2]);
        open.close(&[1, 2]);
        assert_eq!(open.ids(), [2]);
        open.close(&[2]);
        assert!(open.ids().is_empty());
    }
}
