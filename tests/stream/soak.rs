//! The short form of `bench/soak` (issue 13, "Endurance"), about a minute, so a leak fails the
//! build. First a few hundred streams churn (drop and resume at once with `Last-Event-ID`) while
//! pushes go round-robin to several widgets and the app's private Redis is killed and restarted:
//! afterwards every client has every event exactly once and in order, nothing answered 5xx, and
//! the server's open files, stream slots and memory are back where they were. Then thousands of
//! streams are opened and closed in rounds: files and slots come back after each.
//!
//! The server is the in-process TestApp, so `/proc/self` is the server; the load comes from
//! `dashboard loadtest` in a child process, whose sockets and memory are its own. CI runs every
//! test in a process of its own (cargo-nextest), so nothing else moves these figures.

use std::time::{Duration, Instant};

use serde_json::Value as Json;
use tokio::sync::Mutex;

use super::WAIT;
use crate::common::TestApp;
use crate::common::private_redis::PrivateRedis;
use crate::common::served::proc_status_kb;
use crate::loadtest::{count, loadtest, strings};

/// `cargo test` runs tests as threads of one process: the two here take turns, so neither
/// counts the other's files and memory (under cargo-nextest each has its process anyway).
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

const CLIENTS: u64 = 300;
const CHURN_PER_S: u64 = 50;
const PUBLISH_RATE: u64 = 20;
const WIDGETS: i64 = 5;
const DURATION_S: u64 = 45;
/// Redis dies this far into the run and comes back `REDIS_DOWN` later.
const REDIS_KILL_AT: Duration = Duration::from_secs(DURATION_S / 2);
const REDIS_DOWN: Duration = Duration::from_secs(2);

/// Rounds of the open/close loop, and the streams each opens and closes (the harness's
/// per-address limit is 1,000; the tester spreads them over 8 loopback addresses).
const LOOP_ROUNDS: usize = 3;
const LOOP_CLIENTS: u64 = 2000;

/// Resident memory the server may gain from the first third of the run (after [`WARM_UP`]) to
/// the last. Between the two, about 50/s × 27 s ≈ 1,350 streams churn: a leak of 3 KiB per
/// connection (a read buffer, a registry entry, a timer) adds 4 MiB, and a stream leaked whole
/// (~15 KiB) 20 MiB. Measured without a leak: about 1 MiB (the database pool and the recent
/// events the server keeps fill up).
const MAX_RSS_GROWTH_KB: u64 = 3 * 1024;
/// Samples left out of the comparison: the streams opening and the first replays.
const WARM_UP: Duration = Duration::from_secs(5);
const SAMPLE_EVERY: Duration = Duration::from_millis(500);
/// Open files the server may hold at the end beyond its baseline and its database pool's
/// growth: an idle keep-alive connection or two (the harness's client, Redis's reconnect). A
/// leaked socket per churned connection would be hundreds.
const FD_SLACK: u64 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_of_churn_through_a_redis_restart_loses_nothing_and_leaks_nothing() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let mut redis = PrivateRedis::start().await;
    // A short heartbeat, so streams whose client left are noticed soon after the run. Each
    // second's churn reconnects at once, each with a short replay: room for all of them, or the
    // rest are refused with 503 (the limit's own tests cover that).
    let replays = (4 * CHURN_PER_S).to_string();
    let settings = [("REDIS_URL", redis.url()), ("SSE_HEARTBEAT_INTERVAL", "1".into()), ("SSE_MAX_REPLAYS", replays)];
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::spawn_with(&settings).await;
    let before = Resources::of(&app).await;

    let run = tokio::spawn(loadtest(soak_flags(&app)));
    let rss = sample_rss_killing_redis(&run, &mut redis).await;
    let (output, report) = run.await.unwrap();

    assert!(output.status.success(), "{report:#}\n{}", String::from_utf8_lossy(&output.stderr));
    let published = count(&report, "published");
    // A push may time out on a machine busy with other work; a 5xx is caught below.
    assert!(published >= PUBLISH_RATE * DURATION_S * 9 / 10, "pushes were accepted: {report:#}");
    assert_eq!((count(&report, "connected"), count(&report, "failed")), (CLIENTS, 0), "{report:#}");
    assert_eq!(count(&report, "received"), CLIENTS * published, "{report:#}");
    assert_eq!((count(&report, "lost"), count(&report, "duplicated"), count(&report, "out_of_order")), (0, 0, 0));
    assert!(count(&report, "churned") >= CHURN_PER_S * (DURATION_S - 5), "streams churned: {report:#}");
    let server_errors: Vec<&String> =
        report["errors"].as_object().unwrap().keys().filter(|kind| kind.contains("http_5")).collect();
    assert!(server_errors.is_empty(), "5xx answers: {report:#}");
    let widgets: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT widget_id) FROM events").fetch_one(&app.db).await.unwrap();
    assert_eq!(widgets, WIDGETS, "pushes went round-robin over every widget");

    let after = settled(&app, &before).await;
    assert_eq!(after.streams, 0, "every stream slot was freed: {after:?}");
    let allowed = before.fds + after.pool.saturating_sub(before.pool) + FD_SLACK;
    assert!(after.fds <= allowed, "open files back to baseline: {before:?} → {after:?} (at most {allowed})");
    let growth = rss.growth_kb();
    eprintln!("soak: RSS {rss:?}, growth {growth} kB; files {before:?} → {after:?}");
    assert!(
        growth <= MAX_RSS_GROWTH_KB,
        "RSS grew {growth} kB between the first and last third (bound {MAX_RSS_GROWTH_KB})"
    );
    app.stop().await;
}

/// The short form of the 20,000-stream open/close loop: after each round, every slot is free
/// and the open files are back. A socket or a slot kept per closed stream would show here as
/// hundreds, round after round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_opened_and_closed_in_rounds_give_back_their_files_and_slots() {
    let _alone = ONE_AT_A_TIME.lock().await;
    // A short heartbeat, so streams whose client left are noticed soon after each round.
    let app = TestApp::spawn_with(&[("SSE_HEARTBEAT_INTERVAL", "1")]).await;
    let url = app.url("/dashboard/stream");
    let clients = LOOP_CLIENTS.to_string();
    for round in 1..=LOOP_ROUNDS {
        let before = Resources::of(&app).await;
        let (output, report) = loadtest(strings(&["--url", &url, "--clients", &clients, "--duration", "2"])).await;
        assert!(output.status.success(), "round {round}: {report:#}");
        assert_eq!(count(&report, "connected"), LOOP_CLIENTS, "round {round}: {report:#}");
        let after = settled(&app, &before).await;
        assert_eq!(after.streams, 0, "round {round}: every slot was freed: {after:?}");
        let allowed = before.fds + after.pool.saturating_sub(before.pool) + FD_SLACK;
        assert!(after.fds <= allowed, "round {round}: files back: {before:?} → {after:?} (at most {allowed})");
    }
    app.stop().await;
}

fn soak_flags(app: &TestApp) -> Vec<String> {
    let url = app.url("/dashboard/stream");
    let (clients, churn, rate) = (CLIENTS.to_string(), CHURN_PER_S.to_string(), PUBLISH_RATE.to_string());
    let (widgets, duration) = (WIDGETS.to_string(), DURATION_S.to_string());
    strings(&[
        "--url",
        &url,
        "--clients",
        &clients,
        "--churn",
        &churn,
        "--publish-rate",
        &rate,
        "--widgets",
        &widgets,
        "--duration",
        &duration,
        "--token",
        &app.token,
    ])
}

/// The server's resident memory every [`SAMPLE_EVERY`] after [`WARM_UP`] while the load test
/// runs; Redis is killed at [`REDIS_KILL_AT`] and restarted [`REDIS_DOWN`] later.
async fn sample_rss_killing_redis<T>(run: &tokio::task::JoinHandle<T>, redis: &mut PrivateRedis) -> Rss {
    let start = Instant::now();
    let mut samples = Vec::new();
    let mut redis_killed = false;
    while !run.is_finished() {
        let elapsed = start.elapsed();
        if elapsed >= WARM_UP {
            samples.push(proc_status_kb("self", "VmRSS"));
        }
        if !redis_killed && elapsed >= REDIS_KILL_AT {
            redis.kill();
            redis_killed = true;
        } else if redis_killed && elapsed >= REDIS_KILL_AT + REDIS_DOWN && !redis.ping().await {
            redis.restart().await;
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    assert!(redis_killed && redis.ping().await, "the run outlived Redis's kill and restart");
    Rss(samples)
}

/// RSS samples in kB, oldest first.
#[derive(Debug)]
struct Rss(Vec<u64>);

impl Rss {
    /// Mean of the last third of the samples minus mean of the first third (0 if it shrank).
    fn growth_kb(&self) -> u64 {
        let third = self.0.len() / 3;
        assert!(third > 0, "too few samples: {self:?}");
        let mean = |samples: &[u64]| samples.iter().sum::<u64>() / samples.len() as u64;
        mean(&self.0[self.0.len() - third..]).saturating_sub(mean(&self.0[..third]))
    }
}

/// What the server holds: its open files, its database pool, and its open streams.
#[derive(Debug)]
struct Resources {
    fds: u64,
    pool: u64,
    streams: u64,
}

impl Resources {
    async fn of(app: &TestApp) -> Self {
        let debug: Json = app.get("/dashboard/debug").await.json().await.unwrap();
        let fds = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        let field =
            |path: &str| debug.pointer(path).and_then(Json::as_u64).unwrap_or_else(|| panic!("{path}: {debug}"));
        Self { fds, pool: field("/database/pool_size"), streams: field("/stream/connections") }
    }
}

/// The server's resources once its streams have closed and its files are back to `before`'s
/// count (plus the pool's growth and slack), or as they are after [`WAIT`].
async fn settled(app: &TestApp, before: &Resources) -> Resources {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = Resources::of(app).await;
        let files_back = now.fds <= before.fds + now.pool.saturating_sub(before.pool) + FD_SLACK;
        if (now.streams == 0 && files_back) || Instant::now() >= deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
