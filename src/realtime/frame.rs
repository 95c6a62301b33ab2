//! SSE frames, serialized once per process and shared by every stream (cloning `Bytes` is a
//! reference-count increment).

use std::sync::Arc;

use bytes::Bytes;
use serde_json::json;

use super::Mode;
use crate::store::events::EventRow;

/// What the hub sends to every stream of the process. Only `Event`, `BoardChange` and
/// `Heartbeat` are written to clients; the others tell streams to end.
#[derive(Debug, Clone)]
pub enum Frame {
    /// A widget's new value, for the streams of its board (of private boards: only those whose
    /// audience may see it).
    Event { id: i64, board: Arc<str>, private: bool, bytes: Bytes },
    /// A board was created, changed or deleted: the pages of its streams re-read it.
    BoardChange { board: Arc<str>, private: bool, bytes: Bytes },
    /// Written to every stream, so proxies keep idle connections open.
    Heartbeat,
    /// The board became private: every stream that may no longer see it ends (its client
    /// reconnects and is told the board does not exist).
    BoardHidden(Arc<str>),
    /// A share link was revoked, expired or lost its board: the streams it admitted end (their
    /// clients reconnect with what they may still see).
    ShareEnded(i64),
    /// Shutdown: every stream ends. (Streams learn of it from the hub they already wait on,
    /// instead of each also waiting on the shutdown token, which cost two locks of one
    /// process-wide mutex per frame and client.)
    EndOfStreams,
}

/// The bytes of [`Frame::Heartbeat`].
pub static HEARTBEAT: &[u8] = b": heartbeat\n\n";

impl Frame {
    pub fn event(event: &EventRow, private: bool) -> Self {
        Self::Event { id: event.id, board: Arc::from(event.board.as_str()), private, bytes: event_bytes(event) }
    }

    pub fn board_change(board: &str, action: &str, private: bool) -> Self {
        let data = json!({"board": board, "action": action});
        let bytes = Bytes::from(format!("event: board\ndata: {data}\n\n"));
        Self::BoardChange { board: Arc::from(board), private, bytes }
    }
}

/// An event as the stream writes it, live or replayed.
pub fn event_bytes(event: &EventRow) -> Bytes {
    let data = serde_json::to_string(event).expect("an event always serializes");
    Bytes::from(format!("id: {}\nevent: widget\ndata: {data}\n\n", event.id))
}

/// What a stream writes first: the reconnection delay and the `hello` event.
pub fn hello(retry_ms: u128, mode: Mode, last_event_id: i64, heartbeat_s: u64) -> Bytes {
    let data = json!({"mode": mode, "last_event_id": last_event_id, "heartbeat_s": heartbeat_s});
    Bytes::from(format!("retry: {retry_ms}\n\nevent: hello\ndata: {data}\n\n"))
}

/// Sent instead of a replay that would exceed `SSE_REPLAY_LIMIT` or `SSE_REPLAY_MAX_BYTES`:
/// reload the board. It carries the newest id, so a browser's automatic reconnect resumes from
/// there instead of looping.
pub fn reset(last_event_id: i64, reason: &str) -> Bytes {
    let data = json!({"last_event_id": last_event_id, "reason": format!("{reason}; reload the board")});
    Bytes::from(format!("id: {last_event_id}\nevent: reset\ndata: {data}\n\n"))
}
