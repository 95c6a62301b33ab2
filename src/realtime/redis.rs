//! Redis pub/sub: a wake-up channel between processes. A message says "events up to id N are
//! committed" or "board B changed"; the events themselves are always read from PostgreSQL.

use std::time::Duration;

use deadpool_redis::{Config, Pool, Runtime};
use futures_util::StreamExt;
use rand::Rng;
use redis::AsyncCommands;

use super::Realtime;

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
pub struct Publisher {
    pool: Option<Pool>,
    events_channel: String,
    boards_channel: String,
    instance: String,
}

impl Publisher {
    pub fn new(url: &str, prefix: &str, instance: &str) -> Self {
        let pool = build_pool(url);
        if let Err(error) = &pool {
            tracing::warn!(%error, "cannot configure the Redis pool; streaming by polling only");
        }
        Self {
            pool: pool.ok(),
            events_channel: events_channel(prefix),
            boards_channel: boards_channel(prefix),
            instance: instance.to_string(),
        }
    }

    pub fn publish_events(&self, last_id: i64) {
        self.publish(self.events_channel.clone(), format!("{} {last_id}", self.instance));
    }

    pub fn publish_board_change(&self, board: &str, action: &str) {
        let message = serde_json::json!({"instance": self.instance, "board": board, "action": action});
        self.publish(self.boards_channel.clone(), message.to_string());
    }

    fn publish(&self, channel: String, message: String) {
        let Some(pool) = self.pool.clone() else { return };
        tokio::spawn(async move {
            let result: Result<(), String> = async {
                let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                conn.publish::<_, _, ()>(&channel, message).await.map_err(|e| e.to_string())
            }
            .await;
            // Not an error for the writer: the event is committed and polling delivers it.
            if let Err(error) = result {
                tracing::debug!(%error, "publish to Redis failed");
            }
        });
    }
}

fn build_pool(url: &str) -> Result<Pool, String> {
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
pub async fn subscribe(realtime: Realtime, url: String, prefix: String) {
    let mut failures: u32 = 0;
    let mut ever_connected = false;
    loop {
        let session = tokio::select! {
            _ = realtime.shutdown().cancelled() => return,
            result = listen(&realtime, &url, &prefix, &mut ever_connected) => result,
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
async fn listen(realtime: &Realtime, url: &str, prefix: &str, ever_connected: &mut bool) -> redis::RedisResult<()> {
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
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let Ok(payload) = message.get_payload::<String>() else { continue };
        if message.get_channel_name() == events {
            if !payload.starts_with(&format!("{} ", realtime.instance())) {
                realtime.wake();
            }
        } else {
            forward_board_change(realtime, &payload);
        }
    }
    Ok(())
}

fn forward_board_change(realtime: &Realtime, payload: &str) {
    let Ok(message) = serde_json::from_str::<serde_json::Value>(payload) else { return };
    let field = |name: &str| message.get(name).and_then(|v| v.as_str());
    if field("instance") == Some(realtime.instance()) {
        return;
    }
    if let (Some(board), Some(action)) = (field("board"), field("action")) {
        realtime.announce_board_change(board, action);
    }
}

/// 200 ms, 400 ms, … up to 5 s, each ±25 % so many processes do not reconnect in step.
fn backoff(failures: u32) -> Duration {
    let base = BACKOFF_FIRST.saturating_mul(1 << failures.min(5)).min(BACKOFF_MAX);
    base.mul_f64(rand::rng().random_range(0.75..1.25))
}
