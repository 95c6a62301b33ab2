use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Counters of the stream, kept in atomics so the hot path never takes a lock; `/metrics` and
/// `/dashboard/debug` read them.
#[derive(Debug)]
pub struct StreamStats {
    pub max_connections: usize,
    connections: Arc<AtomicUsize>,
    events_published: AtomicU64,
    events_delivered: AtomicU64,
    heartbeats_sent: AtomicU64,
    redis_reconnects: AtomicU64,
    last_event_id: AtomicI64,
}

/// Holds one of the `SSE_MAX_CONNECTIONS` slots; dropping it (the stream ended) frees it.
#[derive(Debug)]
pub struct ConnectionSlot(Arc<AtomicUsize>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl StreamStats {
    pub fn new(max_connections: usize) -> Self {
        Self {
            max_connections,
            connections: Arc::default(),
            events_published: AtomicU64::default(),
            events_delivered: AtomicU64::default(),
            heartbeats_sent: AtomicU64::default(),
            redis_reconnects: AtomicU64::default(),
            last_event_id: AtomicI64::default(),
        }
    }

    pub fn try_open(&self) -> Option<ConnectionSlot> {
        self.connections
            .fetch_update(Relaxed, Relaxed, |n| (n < self.max_connections).then_some(n + 1))
            .ok()
            .map(|_| ConnectionSlot(self.connections.clone()))
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Relaxed)
    }

    pub fn published(&self, last_event_id: i64) {
        self.events_published.fetch_add(1, Relaxed);
        self.last_event_id.store(last_event_id, Relaxed);
    }

    /// Where the dispatcher starts: the newest id at start-up.
    pub fn set_last_event_id(&self, id: i64) {
        self.last_event_id.store(id, Relaxed);
    }

    pub fn delivered(&self, events: u64, heartbeats: u64) {
        if events > 0 {
            self.events_delivered.fetch_add(events, Relaxed);
        }
        if heartbeats > 0 {
            self.heartbeats_sent.fetch_add(heartbeats, Relaxed);
        }
    }

    pub fn redis_reconnected(&self) {
        self.redis_reconnects.fetch_add(1, Relaxed);
    }

    pub fn events_published(&self) -> u64 {
        self.events_published.load(Relaxed)
    }

    pub fn events_delivered(&self) -> u64 {
        self.events_delivered.load(Relaxed)
    }

    pub fn heartbeats_sent(&self) -> u64 {
        self.heartbeats_sent.load(Relaxed)
    }

    pub fn redis_reconnects(&self) -> u64 {
        self.redis_reconnects.load(Relaxed)
    }

    pub fn last_event_id(&self) -> i64 {
        self.last_event_id.load(Relaxed)
    }
}
