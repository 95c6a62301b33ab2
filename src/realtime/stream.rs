//! One client's SSE body: `retry` and `hello`, the replay after `Last-Event-ID`, then live
//! frames from the hub. A frame whose id the client already has is skipped, which makes the
//! seam between replay and live exact.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::{self, error::RecvError};

use super::stats::ConnectionSlot;
use super::{Frame, Realtime, frame};
use crate::config::SseSettings;
use crate::store::{Db, StoreResult, events};

/// A checked stream request: which boards (None = all) and where to resume from.
pub struct StreamRequest {
    pub boards: Option<Vec<String>>,
    pub last_event_id: Option<i64>,
}

/// Builds the body of one stream. The hub subscription is taken before anything is read from
/// PostgreSQL, so every event committed after the reads arrives live.
pub async fn open(
    realtime: &Realtime,
    db: &Db,
    settings: &SseSettings,
    request: StreamRequest,
    slot: ConnectionSlot,
) -> StoreResult<impl Stream<Item = Result<Bytes, Infallible>> + use<>> {
    let receiver = realtime.hub().subscribe();
    let newest = events::last_id(db).await?;
    let heartbeat_s = settings.heartbeat_interval.as_secs();
    let mut first = vec![frame::hello(settings.retry_interval.as_millis(), realtime.mode(), newest, heartbeat_s)];
    let mut cursor = newest;
    match request.last_event_id {
        // An id this database never issued (it was reset, or the client is confused): start over.
        Some(resume_from) if resume_from > newest => first.push(frame::reset(newest, settings.replay_limit)),
        Some(resume_from) => {
            let limit = settings.replay_limit;
            let missed = events::after(db, resume_from, request.boards.as_deref(), i64::from(limit) + 1).await?;
            if missed.rows_read > limit as usize {
                first.push(frame::reset(newest, limit));
            } else {
                // The replay read every event of these boards up to `newest`; live goes on after it.
                cursor = missed.last_read.unwrap_or(resume_from);
                first.extend(missed.events.iter().map(|e| Frame::event(e).bytes));
                realtime.stats().delivered(missed.events.len() as u64, 0);
            }
        }
        None => {}
    }
    let live = Live {
        receiver,
        cursor,
        boards: request.boards.map(|b| b.into_iter().map(Arc::from).collect()),
        realtime: realtime.clone(),
        shut_down: realtime.shutdown().is_cancelled(),
        _slot: slot,
    };
    Ok(stream::iter(first.into_iter().map(Ok)).chain(live.into_stream()))
}

struct Live {
    receiver: broadcast::Receiver<Frame>,
    /// The newest event id this client has; live frames at or below it are skipped.
    cursor: i64,
    boards: Option<Vec<Arc<str>>>,
    realtime: Realtime,
    /// Shutdown began before this stream subscribed, so the end-of-streams frame will not come.
    shut_down: bool,
    _slot: ConnectionSlot,
}

impl Live {
    fn into_stream(self) -> impl Stream<Item = Result<Bytes, Infallible>> {
        stream::unfold(self, |mut live| async move {
            let bytes = live.next_frame().await?;
            Some((Ok(bytes), live))
        })
    }

    /// The next frame for this client; `None` ends the stream (shutdown, or too far behind).
    async fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            if self.shut_down {
                return None;
            }
            let frame = match self.receiver.recv().await {
                Ok(frame) if frame.is_end_of_streams() => return None,
                Ok(frame) => frame,
                Err(RecvError::Lagged(_)) => {
                    tracing::info!(cursor = self.cursor, "stream fell a whole buffer behind; closing it so it resumes");
                    return None;
                }
                Err(RecvError::Closed) => return None,
            };
            if frame.id != 0 && frame.id <= self.cursor {
                continue;
            }
            if frame.id != 0 {
                // Move the cursor even for other boards' events: ids only grow.
                self.cursor = frame.id;
            }
            if !self.wants(&frame) {
                continue;
            }
            let heartbeat = frame.is_heartbeat();
            self.realtime.stats().delivered(u64::from(!heartbeat), u64::from(heartbeat));
            return Some(frame.bytes);
        }
    }

    fn wants(&self, frame: &Frame) -> bool {
        match (&self.boards, &frame.board) {
            (Some(boards), Some(board)) => boards.iter().any(|b| b == board),
            _ => true,
        }
    }
}
