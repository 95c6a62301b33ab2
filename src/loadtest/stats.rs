//! Counters every client task adds to while the run goes on: atomics for the hot counts,
//! latency histograms in shards (a client always uses the same shard, so two cores rarely
//! wait for one lock), and a map of error kinds (rare, so one lock).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hdrhistogram::Histogram;

const SHARDS: usize = 16;
/// Latencies are recorded in microseconds, up to 10 minutes, at 3 significant digits.
const MAX_LATENCY_US: u64 = 600_000_000;

pub struct Stats {
    /// Streams open right now.
    pub open: AtomicU64,
    /// Reconnections after the server or the network ended a stream.
    pub reconnects: AtomicU64,
    /// Reconnections of streams the tester dropped itself (`--churn`).
    pub churned: AtomicU64,
    /// Every dispatched SSE event, of any kind.
    pub events: AtomicU64,
    pub heartbeats: AtomicU64,
    pub bytes: AtomicU64,
    latency: Vec<Mutex<Histogram<u64>>>,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    pub fn new() -> Self {
        let histogram = || Mutex::new(new_histogram());
        Self {
            open: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            churned: AtomicU64::new(0),
            events: AtomicU64::new(0),
            heartbeats: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            latency: (0..SHARDS).map(|_| histogram()).collect(),
            errors: Mutex::default(),
        }
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }

    /// Records one delivery latency for client number `client`.
    pub fn record_latency(&self, client: usize, micros: u64) {
        let mut shard = self.latency[client % SHARDS].lock().unwrap_or_else(|p| p.into_inner());
        shard.saturating_record(micros.clamp(1, MAX_LATENCY_US));
    }

    /// All latencies so far, merged.
    pub fn latency(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for shard in &self.latency {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            all.add(&*shard).expect("shards share the histogram's bounds");
        }
        all
    }

    pub fn error(&self, kind: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(kind.to_string()).or_default() += 1;
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant bounds are valid")
}
