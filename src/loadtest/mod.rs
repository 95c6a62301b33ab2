//! `dashboard loadtest` (docs/loadtest.md): holds many SSE streams open, optionally publishes stamped
//! events, and reports delivery (lost, duplicated, out of order, by event key) and latency.
//!
//! A run has fixed phases, each bounded in time, so it always ends:
//! 1. set-up: check the flags and the open-file limit; when publishing to Dashboard, create
//!    its board and widget; open one probe stream (an unreachable URL or a non-SSE answer
//!    stops here with one line);
//! 2. ramp: start `--clients` client tasks at `--ramp` per second, then wait (at most
//!    [`CONNECT_GRACE`]) until each has its stream open or has given up;
//! 3. measure for `--duration`, publishing at `--publish-rate` if asked, and churning
//!    `--churn` streams a second if asked;
//! 4. drain: wait (at most `--drain`) until every connected client has the last published event;
//! 5. report: each connected client must have received exactly the published keys, once each,
//!    in the order the target committed them (as far as the publisher can know it, see
//!    [`publisher::Published`]). Anything else makes the command fail.

mod args;
mod churn;
mod client;
mod http;
mod limits;
mod live;
mod menu;
mod publisher;
mod received;
mod report;
pub mod sse;
mod stats;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

pub use args::LoadtestArgs;
use args::Plan;
use client::{ClientReport, Progress, Run};
use publisher::Publisher;
use report::Report;
use stats::Stats;

/// How long clients get, after the last one started, to open their streams.
const CONNECT_GRACE: Duration = Duration::from_secs(15);

pub async fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    let args = if menu::wanted() { menu::ask(args)? } else { args };
    let plan = Plan::parse(args)?;
    limits::ensure_open_files(plan.clients)?;
    crate::telemetry::init(&plan.log_level, crate::config::LogFormat::Pretty);
    let publisher = match &plan.publish {
        Some(publishing) => Some(Publisher::prepare(publishing.destination.clone(), publishing.rate).await?),
        None => None,
    };
    let target = http::Target::resolve(plan.stream_url.clone()).await?;
    http::open(&target, 0, None)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the stream at {}: {e}", plan.stream_url))?;

    let started = Instant::now();
    let run = Arc::new(Run {
        target,
        stats: Stats::new(),
        keys: plan.keys,
        debug: plan.debug,
        stop: CancellationToken::new(),
        progress: (0..plan.clients).map(|_| Progress::default()).collect(),
    });
    let interrupted = interrupt_token();
    let live = plan.stats.then(|| live::spawn(run.clone()));
    let clients = ramp(&run, &plan, &interrupted).await;
    wait_until(&interrupted, CONNECT_GRACE, || all_settled(&run)).await;
    // A marker on stderr, so a script sampling the server can tell connecting from measuring.
    eprintln!(
        "loadtest: {} of {} streams open; measuring for {:?}",
        Stats::get(&run.stats.open),
        plan.clients,
        plan.duration
    );
    let churning = run.stop.child_token();
    if let Some(per_second) = plan.churn {
        tokio::spawn(churn::run(run.clone(), per_second, churning.clone()));
    }
    let published = match &publisher {
        Some(publisher) => {
            let published = tokio::select! {
                published = publisher.run(plan.duration, &run.stats) => published,
                _ = interrupted.cancelled() => Vec::new(),
            };
            // Churn stops with the pushes, so the drain below waits for streams that stay put.
            churning.cancel();
            let last = published.last().map_or(i64::MIN, |p| p.key);
            wait_until(&interrupted, plan.drain, || all_caught_up(&run, last)).await;
            Some(published)
        }
        None => {
            wait_until(&interrupted, plan.duration, || false).await;
            None
        }
    };
    run.stop.cancel();
    if let Some(live) = live {
        let _ = live.await;
    }
    let mut outcomes: Vec<ClientReport> = Vec::with_capacity(clients.len());
    for client in clients {
        outcomes.push(client.await?);
    }
    let report = Report::new(&plan, &run, &outcomes, published.as_deref(), started.elapsed());
    if plan.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    report.verdict().map_err(anyhow::Error::msg)
}

/// Starts the clients at `plan.ramp` per second, in 10 ms steps.
async fn ramp(
    run: &Arc<Run>,
    plan: &Plan,
    interrupted: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<ClientReport>> {
    let mut clients = Vec::with_capacity(plan.clients);
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    let start = Instant::now();
    while clients.len() < plan.clients && !interrupted.is_cancelled() {
        ticks.tick().await;
        let due = ((start.elapsed().as_secs_f64() * f64::from(plan.ramp)) as usize + 1).min(plan.clients);
        while clients.len() < due {
            clients.push(tokio::spawn(client::run(run.clone(), clients.len())));
        }
    }
    clients
}

/// Every client has its stream open or has given up.
fn all_settled(run: &Run) -> bool {
    run.progress.iter().all(|p| p.connected.load(Relaxed) || p.gave_up.load(Relaxed))
}

/// Every client still in the run has received the event with key `last` (or a later one).
fn all_caught_up(run: &Run, last: i64) -> bool {
    run.progress
        .iter()
        .all(|p| p.gave_up.load(Relaxed) || !p.connected.load(Relaxed) || p.last_key.load(Relaxed) >= last)
}

/// Waits until `done()`, the time is up, or Ctrl-C, checking every 20 ms.
async fn wait_until(interrupted: &CancellationToken, limit: Duration, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() && tokio::time::Instant::now() < deadline {
        tokio::select! {
            _ = interrupted.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(20).min(deadline - tokio::time::Instant::now())) => {}
        }
    }
}

/// Cancelled on Ctrl-C: the run skips to its report.
fn interrupt_token() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
    token
}
