//! The real-time path: events committed to PostgreSQL reach every open stream of every process.
//!
//! * [`dispatcher`] — one task per process owns a cursor (the last event id it delivered) and
//!   reads `id > cursor` from PostgreSQL, so delivery follows commit order (ids become visible in
//!   order, see `store::events`). It is woken by local pushes, by Redis messages, and by a timer
//!   of `POLL_INTERVAL_MS` that keeps events flowing while Redis is down.
//! * [`redis`] — one pub/sub connection per process. Messages are only wake-ups ("something up
//!   to id N was committed"): Redis may drop or reorder them without losing an event.
//! * [`hub`] — fans each frame, serialized once, out to every stream of the process through a
//!   bounded broadcast buffer; a stream that falls a whole buffer behind is cut off and resumes
//!   with `Last-Event-ID`.
//! * [`stream`] — one client's SSE body: hello, replay from PostgreSQL, then live frames.
//! * [`shared_read`] — the reads of a stream's open (the boards it asks for, the newest id it
//!   may see), each shared by the streams that open at the same moment.

pub mod board_cache;
pub mod board_message;
pub mod dispatcher;
pub mod frame;
pub mod hub;
pub mod redis;
pub mod shared_read;
pub mod shares;
pub mod stats;
pub mod stream;
pub mod ticket;
pub mod visibility;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

pub use board_cache::BoardCache;
pub use frame::Frame;
pub use hub::Hub;
pub use shared_read::{ReadFailed, SharedResult};
pub use stats::StreamStats;

use shared_read::SharedReads;

use crate::config::Settings;
use crate::domain::{Audience, Visibility};
use crate::store::board_file::{BoardChange, ChangedBoard};
use crate::store::widgets::WidgetRow;
use crate::store::{self, Db, events, events::EventRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Pubsub,
    Polling,
}

/// Everything of the real-time path one process shares: cloned into every request.
#[derive(Clone)]
pub struct Realtime {
    inner: Arc<Inner>,
}

/// An opening stream's audience and the boards it asks for (sorted, each once): which of them
/// it may see is read once for all the streams that ask the same at the same moment.
type BoardsAsked = (Audience, Vec<String>);

struct Inner {
    hub: Hub,
    /// Board snapshot JSON, dropped on any event or structure change of its board.
    snapshots: BoardCache<Bytes>,
    /// Widgets that pushes go to, dropped on a structure change of their board.
    widgets: BoardCache<WidgetRow>,
    stats: StreamStats,
    visibility: visibility::BoardVisibility,
    /// The share links that admitted this process's open streams.
    open_shares: shares::OpenShares,
    /// Wakes [`visibility::refresh`] to re-read board visibility now.
    visibility_changed: Notify,
    /// One permit per stream replaying missed events (`SSE_MAX_REPLAYS`).
    replays: Arc<Semaphore>,
    /// The opening streams' reads of the newest id they may see, shared per audience.
    newest: Arc<SharedReads<Audience, i64>>,
    /// The opening streams' reads of which of the boards they ask for they may see, shared per
    /// audience and list of boards.
    visible_boards: Arc<SharedReads<BoardsAsked, Vec<String>>>,
    wake: Notify,
    redis_connected: AtomicBool,
    announcer: Option<redis::Announcer>,
    shutdown: CancellationToken,
    instance: String,
}

impl Realtime {
    /// Starts the dispatcher and (with `REDIS_URL`) the Redis subscriber of this process.
    pub async fn start(
        settings: &Settings,
        db: Db,
        shutdown: CancellationToken,
    ) -> Result<Self, crate::store::StoreError> {
        let realtime = Self::announce_only(settings, shutdown);
        let cursor = crate::store::events::last_id(&db).await?;
        tokio::spawn(visibility::refresh(realtime.clone(), db.clone()));
        tokio::spawn(shares::recheck(realtime.clone(), db.clone()));
        tokio::spawn(dispatcher::run(realtime.clone(), db, cursor, settings.poll_interval));
        tokio::spawn(hub::heartbeats(realtime.clone(), settings.sse.heartbeat_interval));
        tokio::spawn(hub::end_streams_on_shutdown(realtime.clone()));
        if let Some(url) = &settings.redis_url {
            tokio::spawn(redis::subscribe(
                realtime.clone(),
                url.expose().to_string(),
                settings.redis_channel_prefix.clone(),
                board_message::BoardMessages::new(&settings.secret_key_base),
            ));
        }
        Ok(realtime)
    }

    /// For a process without streams of its own (`dashboard worker`, `dashboard jobs run`): no
    /// dispatcher, no subscriber. [`Self::events_committed`] still announces commits over Redis;
    /// without Redis, the stream processes' pollers find them.
    pub fn announce_only(settings: &Settings, shutdown: CancellationToken) -> Self {
        // Unique per start, even for two apps in one process (tests), so each skips only its own messages.
        let instance = format!("{}-{}-{}", hostname(), std::process::id(), &crate::config::random_hex(2));
        let board_messages = board_message::BoardMessages::new(&settings.secret_key_base);
        let announcer = settings
            .redis_url
            .as_ref()
            .map(|url| redis::Announcer::new(url.expose(), &settings.redis_channel_prefix, &instance, board_messages));
        Self {
            inner: Arc::new(Inner {
                hub: Hub::new(),
                snapshots: BoardCache::new(),
                widgets: BoardCache::new(),
                stats: StreamStats::new(settings.sse.max_connections, settings.sse.max_connections_per_address),
                visibility: visibility::BoardVisibility::default(),
                open_shares: shares::OpenShares::default(),
                visibility_changed: Notify::new(),
                replays: Arc::new(Semaphore::new(settings.sse.max_replays)),
                newest: Arc::default(),
                visible_boards: Arc::default(),
                wake: Notify::new(),
                redis_connected: AtomicBool::new(false),
                announcer,
                shutdown,
                instance,
            }),
        }
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub fn snapshots(&self) -> &BoardCache<Bytes> {
        &self.inner.snapshots
    }

    pub fn widgets(&self) -> &BoardCache<WidgetRow> {
        &self.inner.widgets
    }

    pub fn stats(&self) -> &StreamStats {
        &self.inner.stats
    }

    /// A permit to replay missed events, unless `SSE_MAX_REPLAYS` streams are replaying already.
    pub fn try_start_replay(&self) -> Option<OwnedSemaphorePermit> {
        self.inner.replays.clone().try_acquire_owned().ok()
    }

    /// The newest event id of the boards `audience` may see, read after this call began; the
    /// streams that open at the same moment share one read (see [`shared_read`]).
    pub async fn newest_visible_id(&self, db: &Db, audience: &Audience) -> SharedResult<i64> {
        let read = |db: Db, audience: Audience| async move { events::last_visible_id(&db, &audience).await };
        self.inner.newest.read(db, audience, read).await
    }

    /// Those of `boards` (sorted, each once) that `audience` may see, read after this call
    /// began; the streams that open at the same moment share one read (see [`shared_read`]).
    pub async fn visible_boards(&self, db: &Db, audience: &Audience, boards: &[String]) -> SharedResult<Vec<String>> {
        let read = |db: Db, (audience, boards): BoardsAsked| async move {
            store::boards::visible(&db, &boards, &audience).await
        };
        self.inner.visible_boards.read(db, &(audience.clone(), boards.to_vec()), read).await
    }

    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    pub fn mode(&self) -> Mode {
        if self.redis_connected() { Mode::Pubsub } else { Mode::Polling }
    }

    pub fn redis_enabled(&self) -> bool {
        self.inner.announcer.is_some()
    }

    pub fn redis_connected(&self) -> bool {
        self.inner.redis_connected.load(Ordering::Acquire)
    }

    fn set_redis_connected(&self, connected: bool) {
        self.inner.redis_connected.store(connected, Ordering::Release);
    }

    /// Wakes the dispatcher to read new events now.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Called by writers after their transaction committed.
    pub fn events_committed(&self, events: &[EventRow]) {
        let Some(last) = events.iter().map(|e| e.id).max() else { return };
        // The dispatcher drops these snapshots too when it delivers the events; doing it here as
        // well means a read right after this push (same process) already sees it.
        self.snapshots_changed_by(events);
        self.wake();
        if let Some(announcer) = &self.inner.announcer {
            announcer.publish_events(last);
        }
    }

    /// Drops the cached snapshot of each board these events belong to, once per board.
    pub fn snapshots_changed_by(&self, events: &[EventRow]) {
        let mut boards: Vec<&str> = events.iter().map(|e| e.board.as_str()).collect();
        boards.sort_unstable();
        boards.dedup();
        boards.into_iter().for_each(|board| self.inner.snapshots.invalidate(board));
    }

    /// A board or one of its widgets was created, updated or deleted.
    pub fn board_changed(&self, board: &str, action: &str) {
        let private = self.inner.visibility.is_private(board);
        self.board_change(board, action, private);
        if action == "deleted" {
            self.inner.visibility.remove(board);
        }
    }

    pub fn board_created(&self, board: &str, visibility: Visibility) {
        // Nobody has seen a new board yet: no stream to end.
        self.inner.visibility.set(board, visibility);
        self.board_change(board, "created", visibility == Visibility::Private);
    }

    /// Tells the pages of each board an import changed, as the routes that change one do.
    pub fn boards_imported(&self, boards: &[ChangedBoard]) {
        for board in boards {
            match board.change {
                BoardChange::Created => self.board_created(&board.slug, board.visibility),
                BoardChange::Updated => self.board_updated(&board.slug, &board.slug, board.visibility),
                BoardChange::WidgetsOnly => self.board_changed(&board.slug, "imported"),
            }
        }
    }

    /// For a command about to exit: waits (at most `within`) until its board changes were
    /// published on Redis.
    pub async fn flush(&self, within: std::time::Duration) {
        if let Some(announcer) = &self.inner.announcer {
            announcer.flush(within).await;
        }
    }

    /// A board was updated; a renamed board is announced under both slugs, so pages and caches
    /// of the old one learn of it too (as `renamed`: that address no longer names the board).
    /// A board made private first ends the streams that may no longer see it.
    pub fn board_updated(&self, slug_before: &str, slug_after: &str, visibility: Visibility) {
        let private = visibility == Visibility::Private;
        if slug_before != slug_after {
            let was_private = self.inner.visibility.is_private(slug_before);
            self.inner.visibility.remove(slug_before);
            if private && !was_private {
                self.hide(slug_before);
            }
            self.board_change(slug_before, "renamed", was_private || private);
        }
        if self.inner.visibility.set(slug_after, visibility) {
            self.hide(slug_after);
        }
        self.board_change(slug_after, "updated", private);
    }

    fn board_change(&self, board: &str, action: &str, private: bool) {
        self.announce_board_change(board, action, private);
        if let Some(announcer) = &self.inner.announcer {
            announcer.publish_board_change(board, action, private);
        }
    }

    /// Tells this process's streams and caches about a structure change (from here or from
    /// another instance).
    fn announce_board_change(&self, board: &str, action: &str, private: bool) {
        self.inner.snapshots.invalidate(board);
        self.inner.widgets.invalidate(board);
        self.inner.hub.send(Frame::board_change(board, action, private));
    }

    /// A board change announced by another instance: its streams here learn of it as well, and
    /// this process re-reads which boards are private.
    pub(super) fn announce_remote_board_change(&self, board: &str, action: &str, private: bool) {
        let names_the_board = !matches!(action, "renamed" | "deleted");
        if private && names_the_board && self.inner.visibility.set(board, Visibility::Private) && action != "created" {
            self.hide(board);
        }
        self.announce_board_change(board, action, private);
        self.inner.visibility_changed.notify_one();
    }

    /// Ends the streams that may no longer see `board`.
    fn hide(&self, board: &str) {
        self.inner.hub.send(Frame::BoardHidden(Arc::from(board)));
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "dashboard".into())
}
