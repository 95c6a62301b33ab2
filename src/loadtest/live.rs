//! `--stats`: one status line a second while the run goes on (redrawn in place on a terminal,
//! a plain line otherwise).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::client::Run;
use super::stats::Stats;

/// Starts the status line; it stops with the run.
pub fn spawn(run: Arc<Run>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{msg}").expect("a constant template"));
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        let mut events_before = 0;
        loop {
            tokio::select! {
                _ = run.stop.cancelled() => break,
                _ = ticks.tick() => {}
            }
            let events = Stats::get(&run.stats.events);
            let line = status_line(&run, events - events_before);
            events_before = events;
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.set_message(line);
            }
        }
        bar.finish_and_clear();
    })
}

fn status_line(run: &Run, events_per_s: u64) -> String {
    let failed = run.progress.iter().filter(|p| p.gave_up.load(Relaxed)).count();
    let p99 = match run.stats.latency() {
        h if h.is_empty() => "-".to_string(),
        h => format!("{:.1} ms", h.value_at_quantile(0.99) as f64 / 1000.0),
    };
    format!(
        "connected {} · failed {failed} · events/s {events_per_s} · heartbeats {} · p99 {p99}",
        Stats::get(&run.stats.open),
        Stats::get(&run.stats.heartbeats),
    )
}
