//! SSE frames, serialized once per process and shared by every stream (cloning `Bytes` is a
//! reference-count increment).

use std::sync::Arc;

use bytes::Bytes;
use serde_json::json;

use super::Mode;
use crate::store::events::EventRow;

#[derive(Debug, Clone)]
pub struct Frame {
    /// The event id, 0 for frames without one (board changes, heartbeats).
    pub id: i64,
    /// The board this frame belongs to; `None` goes to every stream.
    pub board: Option<Arc<str>>,
    /// The board is private: only streams whose audience may see it get this frame.
    pub private: bool,
    pub bytes: Bytes,
    /// A share link that stopped working (see [`Self::share_ended`]).
    ended_share: Option<i64>,
}

static HEARTBEAT: &[u8] = b": heartbeat\n\n";

impl Frame {
    pub fn event(event: &EventRow, private: bool) -> Self {
        let data = serde_json::to_string(event).expect("an event always serializes");
        Self {
            id: event.id,
            board: Some(Arc::from(event.board.as_str())),
            private,
            bytes: Bytes::from(format!("id: {}\nevent: widget\ndata: {data}\n\n", event.id)),
            ended_share: None,
        }
    }

    pub fn board_change(board: &str, action: &str, private: bool) -> Self {
        let data = json!({"board": board, "action": action});
        let bytes = Bytes::from(format!("event: board\ndata: {data}\n\n"));
        Self { id: 0, board: Some(Arc::from(board)), private, bytes, ended_share: None }
    }

    pub fn heartbeat() -> Self {
        Self { id: 0, board: None, private: false, bytes: Bytes::from_static(HEARTBEAT), ended_share: None }
    }

    /// Sent when a board became private: every stream that may no longer see it ends (its client
    /// reconnects and is told the board does not exist). Never written to a client.
    pub fn board_hidden(board: &str) -> Self {
        Self { id: 0, board: Some(Arc::from(board)), private: true, bytes: Bytes::new(), ended_share: None }
    }

    /// The board of a [`Self::board_hidden`] frame.
    pub fn hidden_board(&self) -> Option<&str> {
        self.bytes.is_empty().then_some(self.board.as_deref()).flatten()
    }

    pub fn is_heartbeat(&self) -> bool {
        self.bytes.as_ref() == HEARTBEAT
    }

    /// Sent once at shutdown: every stream that receives it ends. (Streams learn of shutdown
    /// from the hub they already wait on, instead of each also waiting on the shutdown token,
    /// which cost two locks of one process-wide mutex per frame and client.)
    pub fn end_of_streams() -> Self {
        Self { id: 0, board: None, private: false, bytes: Bytes::new(), ended_share: None }
    }

    pub fn is_end_of_streams(&self) -> bool {
        self.bytes.is_empty() && self.board.is_none() && self.ended_share.is_none()
    }

    /// Sent when a share link was revoked, expired or lost its board: the streams it admitted
    /// end (their clients reconnect with what they may still see). Never written to a client.
    pub fn share_ended(share: i64) -> Self {
        Self { id: 0, board: None, private: true, bytes: Bytes::new(), ended_share: Some(share) }
    }

    /// The link of a [`Self::share_ended`] frame.
    pub fn ended_share(&self) -> Option<i64> {
        self.ended_share
    }
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
