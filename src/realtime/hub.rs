use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};

use super::{Frame, Realtime};

/// How many frames a stream may fall behind before it is cut off. The buffer is one ring shared
/// by all streams of a thread, so it costs memory once per worker, not per client.
pub const BUFFER_FRAMES: usize = 4096;

/// In-process fan-out: one sender; on each thread that serves streams, a relay that passes every
/// frame on to that thread's streams.
///
/// Why a relay per thread: a stream's task lives on its HTTP worker's thread, and a frame sent
/// from another thread (the dispatcher's) woke each stream's task from afar, which costs a
/// system call (the worker's event-fd write) per stream and frame: measured by `bench/profile`,
/// 2.1 system calls per delivery against nchan's 1.0. The relay is woken once per frame and
/// wakes its thread's streams from their own thread, where a wake is a queue push.
pub struct Hub {
    sender: broadcast::Sender<Frame>,
    /// Tells this hub's relays apart from another's (tests run several apps in one process).
    id: u64,
}

thread_local! {
    /// This thread's relay senders, by hub.
    static RELAYS: RefCell<HashMap<u64, broadcast::Sender<Frame>>> = RefCell::new(HashMap::new());
}

impl Hub {
    pub fn new() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self { sender: broadcast::Sender::new(BUFFER_FRAMES), id: NEXT_ID.fetch_add(1, Ordering::Relaxed) }
    }

    /// A receiver of at least every frame sent after this call, fed by this thread's relay.
    /// It may also get a few sent just before, which the relay had still to pass on: a stream
    /// skips those events by id (they were committed before its read of the newest id), and
    /// the other frames are harmless twice. Must be called within a `LocalSet` (an actix
    /// worker's), where the relay task is spawned.
    pub fn subscribe(&self) -> broadcast::Receiver<Frame> {
        RELAYS.with_borrow_mut(|relays| relays.entry(self.id).or_insert_with(|| self.start_relay()).subscribe())
    }

    pub fn send(&self, frame: Frame) {
        // An error only means no stream is open right now.
        let _ = self.sender.send(frame);
    }

    /// Subscribes this thread's relay to the hub (before returning, so no frame sent after the
    /// caller's subscription is missed) and spawns it on this thread.
    fn start_relay(&self) -> broadcast::Sender<Frame> {
        let upstream = self.sender.subscribe();
        tokio::task::spawn_local(relay(self.id, upstream));
        broadcast::Sender::new(BUFFER_FRAMES)
    }
}

/// Passes every frame of the hub on to this thread's streams, until the hub is gone.
async fn relay(hub: u64, mut upstream: broadcast::Receiver<Frame>) {
    loop {
        match upstream.recv().await {
            Ok(frame) => RELAYS.with_borrow(|relays| {
                if let Some(local) = relays.get(&hub) {
                    // An error only means none of this thread's streams is open right now.
                    let _ = local.send(frame);
                }
            }),
            // This thread did not run for a whole buffer of frames, so its streams missed some:
            // a fresh channel closes theirs, and their clients resume with Last-Event-ID.
            Err(RecvError::Lagged(_)) => {
                tracing::warn!("a worker fell a whole buffer of frames behind; its streams end and resume");
                RELAYS.with_borrow_mut(|relays| relays.insert(hub, broadcast::Sender::new(BUFFER_FRAMES)));
            }
            Err(RecvError::Closed) => {
                RELAYS.with_borrow_mut(|relays| relays.remove(&hub));
                return;
            }
        }
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

/// At shutdown, tells every stream to end (see [`Frame::EndOfStreams`]).
pub async fn end_streams_on_shutdown(realtime: Realtime) {
    realtime.shutdown().cancelled().await;
    realtime.hub().send(Frame::EndOfStreams);
}

/// One timer per process sends every stream its heartbeat comment.
pub async fn heartbeats(realtime: Realtime, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = realtime.shutdown().cancelled() => return,
            _ = ticks.tick() => realtime.hub().send(Frame::Heartbeat),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::task::LocalSet;

    use super::*;

    #[tokio::test]
    async fn a_subscriber_gets_the_frames_sent_after_it_subscribed_through_its_threads_relay() {
        LocalSet::new()
            .run_until(async {
                let hub = Hub::new();
                hub.send(Frame::ShareEnded(1));
                let (mut first, mut second) = (hub.subscribe(), hub.subscribe());
                hub.send(Frame::ShareEnded(2));
                for receiver in [&mut first, &mut second] {
                    assert!(matches!(receiver.recv().await, Ok(Frame::ShareEnded(2))));
                }
            })
            .await;
    }

    #[tokio::test]
    async fn a_relay_a_whole_buffer_behind_ends_its_threads_streams_and_serves_new_ones() {
        LocalSet::new()
            .run_until(async {
                let hub = Hub::new();
                let mut behind = hub.subscribe();
                // The relay cannot run while this task sends without yielding.
                for n in 0..BUFFER_FRAMES as i64 + 10 {
                    hub.send(Frame::ShareEnded(n));
                }
                let got = behind.recv().await;
                assert!(matches!(got, Err(RecvError::Closed)), "{got:?}");
                let mut fresh = hub.subscribe();
                hub.send(Frame::ShareEnded(-1));
                // After the frames the relay had still to pass on (a stream skips the events
                // among them by id), the new one.
                loop {
                    match fresh.recv().await {
                        Ok(Frame::ShareEnded(-1)) => break,
                        Ok(Frame::ShareEnded(n)) => assert!(n >= 10, "frame {n} was lost to the lag"),
                        other => panic!("{other:?}"),
                    }
                }
            })
            .await;
    }

    #[tokio::test]
    async fn a_relay_ends_with_its_hub() {
        LocalSet::new()
            .run_until(async {
                let hub = Hub::new();
                let (id, mut receiver) = (hub.id, hub.subscribe());
                drop(hub);
                assert!(matches!(receiver.recv().await, Err(RecvError::Closed)));
                assert!(RELAYS.with_borrow(|relays| !relays.contains_key(&id)));
            })
            .await;
    }
}
