use std::time::Duration;

use tokio::sync::broadcast;

use super::{Frame, Realtime};

/// How many frames a stream may fall behind before it is cut off. The buffer is one ring shared
/// by all streams of the process, so it costs memory once, not per client.
pub const BUFFER_FRAMES: usize = 4096;

/// In-process fan-out: one sender, a receiver per open stream.
pub struct Hub {
    sender: broadcast::Sender<Frame>,
}

impl Hub {
    pub fn new() -> Self {
        Self { sender: broadcast::Sender::new(BUFFER_FRAMES) }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Frame> {
        self.sender.subscribe()
    }

    pub fn send(&self, frame: Frame) {
        // An error only means no stream is open right now.
        let _ = self.sender.send(frame);
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
