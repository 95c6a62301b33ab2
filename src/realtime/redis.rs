//! Redis pub/sub: a wake-up channel between processes. A message says "events up to id N are
//! committed" or "board B changed"; the events themselves are always read from PostgreSQL.
//!
//! Board messages are signed ([`BoardMessages`]). Event messages are not: they only wake the
//! dispatcher, which then reads what was committed after its cursor, so a forged one costs one
//! extra read and can neither add, hide nor reorder an event.

use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::{Config, Pool, Runtime};
use futures_util::StreamExt;
use rand::Rng;
use redis::AsyncCommands;
use tokio::sync::{Semaphore, watch};

use super::Realtime;
use super::board_message::BoardMessages;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const BACKOFF_FIRST: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

fn events_channel(prefix: &str) -> String {
    format!("{prefix}:events")
}

fn boards_channel(prefix: &str) -> String {
    format!("{prefix}:boards")
}

/// Publishes through the deadpool-redis pool, never blocking the request that committed.
pub struct Announcer {
    pool: Option<Pool>,
    /// The newest committed id: one task publishes it, so a burst of pushes sends one message
    /// (a message only says "read up to here"; an older one adds nothing).
    newest_event: watch::Sender<i64>,
    boards_channel: String,
    instance: String,
    board_messages: BoardMessages,
    /// One permit per board message being sent, so that a command can wait for its messages
    /// before it exits ([`Self::flush`]).
    board_sends: Arc<Semaphore>,
}

/// Board messages in flight at once beyond which [`Announcer::flush`] no longer waits for more.
const MAX_TRACKED_SENDS: u32 = 1024;

impl Announcer {
    pub fn new(url: &str, prefix: &str, instance: &str, board_messages: BoardMessages) -> Self {
        let pool = build_pool(url);
        if let Err(error) = &pool {
            tracing::warn!(%error, "cannot configure the Redis pool; streaming by polling only");
        }
        let pool = pool.ok();
        let (newest_event, newest) = watch::channel(0);
        if let Some(pool) = &pool {
            tokio::spawn(announce_events(pool.clone(), events_channel(prefix), instance.to_string(), newest));
        }
        Self {
            pool,
            newest_event,
            boards_channel: boards_channel(prefix),
            instance: instance.to_string(),
            board_messages,
            board_sends: Arc::new(Semaphore::new(MAX_TRACKED_SENDS as usize)),
        }
    }

    pub fn publish_events(&self, last_id: i64) {
        self.newest_event.send_if_modified(|newest| {
            let newer = last_id > *newest;
            *newest = (*newest).max(last_id);
            newer
        });
    }

    pub fn publish_board_change(&self, board: &str, action: &str, private: bool) {
        let Some(pool) = self.pool.clone() else { return };
        let message = self.board_messages.seal(&self.instance, board, action, private);
        let permit = self.board_sends.clone().try_acquire_owned().ok();
        let channel = self.boards_channel.clone();
        tokio::spawn(async move {
            send(pool, channel, message).await;
            drop(permit);
        });
    }

    /// Waits (at most `within`) until the board messages published so far were sent.
    pub async fn flush(&self, within: Duration) {
        let _ = tokio::time::timeout(within, self.board_sends.acquire_many(MAX_TRACKED_SENDS)).await;
    }
}

/// Publishes the newest committed id whenever it moves; ends when the publisher is dropped.
async fn announce_events(pool: Pool, channel: String, instance: String, mut newest: watch::Receiver<i64>) {
    while newest.changed().await.is_ok() {
        let id = *newest.borrow_and_update();
        send(pool.clone(), channel.clone(), format!("{instance} {id}")).await;
    }
}

async fn send(pool: Pool, channel: String, message: String) {
    let result: Result<(), String> = async {
        let mut conn = pool.get().await.map_err(|e| e.to_string())?;
        conn.publish::<_, _, ()>(&channel, message).await.map_err(|e| e.to_string())
    }
    .await;
    // Not an error for the writer: the event is committed and polling delivers it.
    if let Err(error) = result {
        tracing::debug!(%error, "publish to Redis failed");
    }
}

fn build_pool(url: &str) -> Result<Pool, String> {
    crate::tls::use_ring();
    Config::from_url(url)
        .builder()
        .map_err(|e| e.to_string())?
        .max_size(16)
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())
}

/// The process's one subscriber connection, kept up with exponential back-off and jitter.
/// While it is down the stream mode is `polling`; every (re)connect wakes the dispatcher, which
/// closes any gap from its cursor.
pub async fn subscribe(realtime: Realtime, url: String, prefix: String, board_messages: BoardMessages) {
    let mut failures: u32 = 0;
    let mut ever_connected = false;
    loop {
        let session = tokio::select! {
            _ = realtime.shutdown().cancelled() => return,
            result = listen(&realtime, &url, &prefix, &board_messages, &mut ever_connected) => result,
        };
        let reason = match &session {
            Ok(()) => "the server closed the connection".to_string(),
            Err(error) => error.to_string(),
        };
        if realtime.redis_connected() {
            realtime.set_redis_connected(false);
            tracing::warn!(%reason, "Redis connection lost; stream mode: polling");
            failures = 0;
        } else if failures == 0 {
            tracing::warn!(%reason, "Redis unreachable; stream mode: polling until it is back");
        }
        let delay = backoff(failures);
        failures = failures.saturating_add(1);
        tokio::select! {
            _ = realtime.shutdown().cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// Connects, subscribes, and forwards messages until the connection ends.
async fn listen(
    realtime: &Realtime,
    url: &str,
    prefix: &str,
    board_messages: &BoardMessages,
    ever_connected: &mut bool,
) -> redis::RedisResult<()> {
    crate::tls::use_ring();
    let client = redis::Client::open(url)?;
    let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)))??;
    let events = events_channel(prefix);
    pubsub.subscribe(&[&events, &boards_channel(prefix)]).await?;
    realtime.set_redis_connected(true);
    if *ever_connected {
        realtime.stats().redis_reconnected();
    }
    *ever_connected = true;
    tracing::info!("Redis subscriber connected; stream mode: pubsub");
    realtime.wake();
    let own_prefix = format!("{} ", realtime.instance());
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let Ok(payload) = message.get_payload::<String>() else { continue };
        if message.get_channel_name() == events {
            if !payload.starts_with(&own_prefix) {
                realtime.wake();
            }
        } else {
            forward_board_change(realtime, board_messages, &payload);
        }
    }
    Ok(())
}

fn forward_board_change(realtime: &Realtime, board_messages: &BoardMessages, payload: &str) {
    match board_messages.open(payload) {
        Ok(change) if change.instance == realtime.instance() => {}
        Ok(change) => realtime.announce_remote_board_change(&change.board, &change.action, change.private),
        // Forged, stale, or from an instance with another SECRET_KEY_BASE (a misconfiguration).
        Err(reason) => tracing::debug!(reason, "board message from Redis dropped"),
    }
}

/// 200 ms, 400 ms, … up to 5 s, each ±25 % so many processes do not reconnect in step.
fn backoff(failures: u32) -> Duration {
    let base = BACKOFF_FIRST.saturating_mul(1 << failures.min(5)).min(BACKOFF_MAX);
    base.mul_f64(rand::rng().random_range(0.75..1.25))
}
