//! One client's SSE body: `retry` and `hello`, the replay after `Last-Event-ID`, then live
//! frames from the hub. A frame whose id the client already has is skipped, which makes the
//! seam between replay and live exact.
//!
//! A replay is read in pages, each only once the client has taken the previous one, so a
//! client that stops reading holds at most one page. Before it starts, one query sizes the
//! backlog: past `SSE_REPLAY_LIMIT` events or `SSE_REPLAY_MAX_BYTES` the client gets `reset`
//! instead, and at most `SSE_MAX_REPLAYS` streams replay at a time.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt, stream};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::broadcast::{self, error::RecvError};

use super::ReadFailed;
use super::shares::ShareHold;
use super::stats::ConnectionSlot;
use super::{Frame, Realtime, frame};
use crate::config::SseSettings;
use crate::domain::Audience;
use crate::store::events::{self, PageBound, ReplayScope};
use crate::store::{Db, StoreError, StoreResult};

/// One page of a replay: small enough that a client which stops reading costs little.
const REPLAY_PAGE: PageBound = PageBound { rows: 100, bytes: 256 * 1024 };

/// A checked stream request: which boards (None = all it may see), where to resume from, and
/// who asks (and the share links that let them).
pub struct StreamRequest {
    pub boards: Option<Vec<String>>,
    pub last_event_id: Option<i64>,
    pub audience: Audience,
    pub shares: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The read of the newest id, shared with the streams that opened at the same moment, failed.
    #[error(transparent)]
    Newest(#[from] ReadFailed),
    /// `SSE_MAX_REPLAYS` streams are replaying; this one would have to as well.
    #[error("too many streams are replaying missed events")]
    ReplaysFull,
}

/// Builds the body of one stream. The hub subscription is taken before anything is read from
/// PostgreSQL, so every event committed after the reads arrives live. A failed replay read
/// ends the body with the error, and the client resumes from the last frame it got.
pub async fn open(
    realtime: &Realtime,
    db: &Db,
    settings: &SseSettings,
    request: StreamRequest,
    slot: ConnectionSlot,
) -> Result<impl Stream<Item = StoreResult<Bytes>> + use<>, OpenError> {
    let receiver = realtime.hub().subscribe();
    // Only ids of boards this client may see: another board's would tell that it is busy.
    let newest = realtime.newest_visible_id(db, &request.audience).await?;
    let heartbeat_s = settings.heartbeat_interval.as_secs();
    let hello = frame::hello(settings.retry_interval.as_millis(), realtime.mode(), newest, heartbeat_s);
    let catch_up = match request.last_event_id {
        None => CatchUp::Nothing,
        Some(resume_from) => {
            let scope = ReplayScope { boards: request.boards.as_deref(), audience: &request.audience };
            catch_up(realtime, db, settings, scope, resume_from, newest).await?
        }
    };
    // The catch-up covers every event of these boards up to `newest`; live goes on after it.
    let live = Live {
        receiver,
        cursor: newest,
        boards: request.boards.map(|b| b.into_iter().map(Arc::from).collect()),
        audience: request.audience,
        shares: ShareHold::new(realtime, request.shares),
        realtime: realtime.clone(),
        shut_down: realtime.shutdown().is_cancelled(),
        _slot: slot,
    };
    // Boxed: the catch-up's futures (a replay's SQL reads) would otherwise take room in every
    // stream's body for as long as it stays open, long after the catch-up ended.
    Ok(stream::iter([Ok(hello)]).chain(catch_up.into_stream().boxed()).chain(live.into_stream()))
}

/// What a resuming client gets before live frames.
enum CatchUp {
    Nothing,
    Reset(Bytes),
    Replay(Replay),
}

impl CatchUp {
    fn into_stream(self) -> impl Stream<Item = StoreResult<Bytes>> {
        let (reset, replay) = match self {
            Self::Nothing => (None, None),
            Self::Reset(frame) => (Some(frame), None),
            Self::Replay(replay) => (None, Some(replay)),
        };
        stream::iter(reset.map(Ok)).chain(stream::iter(replay).flat_map(Replay::into_stream))
    }
}

/// Sizes what the client missed in `(resume_from, newest]` with one query, then picks reset or
/// replay; a replay takes one of the `SSE_MAX_REPLAYS` permits.
async fn catch_up(
    realtime: &Realtime,
    db: &Db,
    settings: &SseSettings,
    scope: ReplayScope<'_>,
    resume_from: i64,
    newest: i64,
) -> Result<CatchUp, OpenError> {
    // An id this database never issued (it was reset, or the client is confused): start over.
    if resume_from > newest {
        return Ok(CatchUp::Reset(frame::reset(newest, "this event id is unknown")));
    }
    let limit = settings.replay_limit;
    let (boards, audience) = (scope.boards.map(<[String]>::to_vec), scope.audience.clone());
    let backlog = events::backlog(db, resume_from, newest, scope, i64::from(limit) + 1).await?;
    if backlog.events > i64::from(limit) {
        return Ok(CatchUp::Reset(frame::reset(newest, &format!("more than {limit} events missed"))));
    }
    if backlog.bytes > settings.replay_max_bytes {
        let reason = format!("the missed events hold more than {} bytes", settings.replay_max_bytes);
        return Ok(CatchUp::Reset(frame::reset(newest, &reason)));
    }
    if backlog.events == 0 {
        return Ok(CatchUp::Nothing);
    }
    Ok(CatchUp::Replay(Replay {
        db: db.clone(),
        boards,
        audience,
        cursor: resume_from,
        until: newest,
        realtime: realtime.clone(),
        _permit: realtime.try_start_replay().ok_or(OpenError::ReplaysFull)?,
    }))
}

/// The events a resuming client missed, read page by page.
struct Replay {
    db: Db,
    boards: Option<Vec<String>>,
    audience: Audience,
    /// The newest event id read so far.
    cursor: i64,
    /// The newest event id of the replay; later ones arrive live.
    until: i64,
    realtime: Realtime,
    /// Held until the last page has been taken.
    _permit: OwnedSemaphorePermit,
}

impl Replay {
    fn into_stream(self) -> impl Stream<Item = StoreResult<Bytes>> {
        stream::try_unfold(self, |mut replay| async move {
            let page = replay.next_page().await?;
            StoreResult::Ok(page.map(|frames| (stream::iter(frames.into_iter().map(StoreResult::Ok)), replay)))
        })
        .try_flatten()
    }

    /// The next page's frames; `None` when the replay is complete.
    async fn next_page(&mut self) -> StoreResult<Option<Vec<Bytes>>> {
        if self.cursor >= self.until {
            return Ok(None);
        }
        let scope = ReplayScope { boards: self.boards.as_deref(), audience: &self.audience };
        let page = events::replay_page(&self.db, self.cursor, self.until, scope, REPLAY_PAGE).await.inspect_err(
            |e| tracing::warn!(error = %e, "replay read failed; ending the stream so the client resumes"),
        )?;
        // Past the last row read, decoded or not, so a row that cannot be read is skipped.
        let Some(last_read) = page.last_read else { return Ok(None) };
        self.cursor = last_read;
        self.realtime.stats().delivered(page.events.len() as u64, 0);
        // Written to this client only, which may see every board of the page.
        Ok(Some(page.events.iter().map(frame::event_bytes).collect()))
    }
}

struct Live {
    receiver: broadcast::Receiver<Frame>,
    /// The newest event id this client has; live frames at or below it are skipped.
    cursor: i64,
    boards: Option<Vec<Arc<str>>>,
    audience: Audience,
    /// The share links that admitted this stream: it ends when one stops working.
    shares: ShareHold,
    realtime: Realtime,
    /// Shutdown began before this stream subscribed, so the end-of-streams frame will not come.
    shut_down: bool,
    _slot: ConnectionSlot,
}

impl Live {
    fn into_stream(self) -> impl Stream<Item = StoreResult<Bytes>> {
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
                Ok(frame) => frame,
                Err(RecvError::Lagged(_)) => {
                    tracing::info!(cursor = self.cursor, "stream fell a whole buffer behind; closing it so it resumes");
                    return None;
                }
                Err(RecvError::Closed) => return None,
            };
            let stats = self.realtime.stats();
            match frame {
                Frame::EndOfStreams => return None,
                Frame::ShareEnded(share) if self.shares.admitted_by(share) => return None,
                Frame::BoardHidden(board) if self.loses(&board) => return None,
                Frame::ShareEnded(_) | Frame::BoardHidden(_) => {}
                Frame::Heartbeat => {
                    stats.delivered(0, 1);
                    return Some(Bytes::from_static(frame::HEARTBEAT));
                }
                Frame::BoardChange { board, private, bytes } if self.wants(&board, private) => {
                    stats.delivered(1, 0);
                    return Some(bytes);
                }
                Frame::BoardChange { .. } => {}
                Frame::Event { id, board, private, bytes } if id > self.cursor => {
                    // The cursor moves even for other boards' events: ids only grow.
                    self.cursor = id;
                    if self.wants(&board, private) {
                        stats.delivered(1, 0);
                        return Some(bytes);
                    }
                }
                Frame::Event { .. } => {}
            }
        }
    }

    fn wants(&self, board: &str, private: bool) -> bool {
        self.follows(board) && (!private || self.audience.covers(board))
    }

    /// Whether this stream is for `board` (by name, or as one of all boards).
    fn follows(&self, board: &str) -> bool {
        self.boards.as_ref().is_none_or(|boards| boards.iter().any(|b| &**b == board))
    }

    /// Whether `board`, now private, was part of this stream, which may not see it: the stream
    /// ends, and its client reconnects to what it may still see.
    fn loses(&self, board: &str) -> bool {
        self.follows(board) && !self.audience.covers(board)
    }
}
