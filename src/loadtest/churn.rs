//! `--churn N`: each second, N clients whose stream is open drop it and reconnect at once with
//! `Last-Event-ID`, as tabs that reload do. Clients are taken in turn, so over a long run every
//! client churns about as often as the others and each reconnection resumes a different history.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::client::Run;

/// Churns `per_second` streams a second until `stop`.
pub async fn run(run: Arc<Run>, per_second: usize, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    // The first tick is immediate; the first churn comes a second into the measurement.
    ticks.tick().await;
    let mut next = 0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        next = churn_from(&run, next, per_second);
    }
}

/// Tells up to `count` clients with an open stream, from number `start` on (wrapping), to churn;
/// returns where the next round starts.
fn churn_from(run: &Run, start: usize, count: usize) -> usize {
    let clients = run.progress.len();
    let mut told = 0;
    let mut index = start;
    for _ in 0..clients {
        if told == count {
            break;
        }
        let progress = &run.progress[index];
        if progress.streaming.load(Relaxed) {
            progress.churn.notify_one();
            told += 1;
        }
        index = (index + 1) % clients;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadtest::client::{KeySource, Progress};
    use crate::loadtest::http::Target;
    use crate::loadtest::stats::Stats;

    async fn run_of(clients: usize) -> Run {
        let target = Target::resolve("http://127.0.0.1:9/dashboard/stream".parse().unwrap()).await.unwrap();
        Run {
            target,
            stats: Stats::new(),
            keys: KeySource::EventId,
            debug: false,
            stop: CancellationToken::new(),
            progress: (0..clients).map(|_| Progress::default()).collect(),
        }
    }

    /// Whether client `index` was told to churn (consuming the notice).
    async fn told(run: &Run, index: usize) -> bool {
        tokio::time::timeout(Duration::from_millis(10), run.progress[index].churn.notified()).await.is_ok()
    }

    #[tokio::test]
    async fn open_streams_are_churned_in_turn_wrapping_around() {
        let run = run_of(5).await;
        for open in [0, 2, 3, 4] {
            run.progress[open].streaming.store(true, Relaxed);
        }
        assert_eq!(churn_from(&run, 2, 2), 4, "clients 2 and 3 churn; the next round starts at 4");
        assert_eq!(churn_from(&run, 4, 2), 1, "clients 4 and 0; the next round starts at 1");
        let churned = [told(&run, 0).await, told(&run, 1).await, told(&run, 2).await, told(&run, 3).await];
        assert_eq!(churned, [true, false, true, true]);
        assert!(told(&run, 4).await);
    }

    #[tokio::test]
    async fn asking_for_more_than_are_open_churns_each_open_stream_once() {
        let run = run_of(3).await;
        run.progress[1].streaming.store(true, Relaxed);
        assert_eq!(churn_from(&run, 0, 50), 0, "one full turn");
        assert!(told(&run, 1).await && !told(&run, 1).await, "told once");
        assert!(!told(&run, 0).await && !told(&run, 2).await);
    }
}
