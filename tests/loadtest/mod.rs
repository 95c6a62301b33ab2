//! `dashboard loadtest` (the built binary) against a real test server: its counts must be exact.

use crate::common;
use std::process::Output;
use std::time::Duration;

use common::TestApp;
use common::tcp_proxy::TcpProxy;
use serde_json::Value as Json;

/// Runs `dashboard loadtest` with `flags` and `--json`, without any of the app's settings.
pub async fn loadtest(flags: Vec<String>) -> (Output, Json) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard"))
        .arg("loadtest")
        .args(flags)
        .arg("--json")
        .env_remove("DATABASE_URL")
        .env_remove("DASHBOARD_API_TOKEN")
        .env_remove("SSE_URL")
        .env_remove("SSE_CLIENTS")
        .kill_on_drop(true)
        .output()
        .await
        .expect("the binary runs");
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr: {}", String::from_utf8_lossy(&output.stderr)));
    (output, report)
}

pub fn strings(flags: &[&str]) -> Vec<String> {
    flags.iter().map(|f| f.to_string()).collect()
}

pub fn count(report: &Json, field: &str) -> u64 {
    report[field].as_u64().unwrap_or_else(|| panic!("{field} in {report}"))
}

#[tokio::test]
async fn every_client_receives_exactly_the_published_events() {
    let app = TestApp::spawn().await;
    let url = app.url("/dashboard/stream");
    let flags = ["--url", &url, "--clients", "50", "--publish-rate", "20", "--duration", "5", "--token", &app.token];
    let (output, report) = loadtest(strings(&flags)).await;

    assert!(output.status.success(), "{report:#}\n{}", String::from_utf8_lossy(&output.stderr));
    let published = count(&report, "published");
    assert_eq!(published, 100, "20/s for 5 s: {report:#}");
    assert_eq!(app.count("events").await as u64, published, "the report's published = the events stored");
    assert_eq!(count(&report, "connected"), 50);
    assert_eq!(count(&report, "failed"), 0);
    assert_eq!(count(&report, "received"), 50 * published, "each client got each event: {report:#}");
    assert_eq!((count(&report, "lost"), count(&report, "duplicated"), count(&report, "out_of_order")), (0, 0, 0));
    assert_eq!(report["latency_ms"]["count"].as_u64(), Some(50 * published), "every delivery was timed");
    assert!(count(&report, "bytes") > 0 && count(&report, "events") >= 50 * published);
    app.stop().await;
}

/// A run of `clients` streams on `board` for `duration_s` seconds at 20 events/s, whose streams
/// are all cut (through a proxy) from `cut_at` for `cut_for`. Pushes go straight to the app, so
/// events keep being committed while the streams are cut.
async fn run_with_a_cut(
    app: &TestApp,
    board: &str,
    clients: u32,
    duration_s: u32,
    cut_at: Duration,
    cut_for: Duration,
) -> (Output, Json) {
    let proxy = TcpProxy::start(format!("127.0.0.1:{}", app.port).parse().unwrap()).await;
    let stream = format!("http://127.0.0.1:{}/dashboard/stream", proxy.port);
    app.create_board(board, &[("w", "number")]).await;
    let push = app.url(&format!("/dashboard/boards/{board}/widgets/w/events"));
    let body = r#"{"value":{seq},"seq":{seq},"sent_at_us":{sent_at_us}}"#;
    let (clients, duration) = (clients.to_string(), duration_s.to_string());
    let flags = [
        "--url",
        &stream,
        "--boards",
        board,
        "--clients",
        &clients,
        "--duration",
        &duration,
        "--publish-rate",
        "20",
        "--publish-url",
        &push,
        "--publish-body",
        body,
        "--token",
        &app.token,
    ];
    let run = tokio::spawn(loadtest(strings(&flags)));
    tokio::time::sleep(cut_at).await;
    proxy.cut();
    tokio::time::sleep(cut_for).await;
    proxy.restore();
    run.await.unwrap()
}

#[tokio::test]
async fn streams_cut_mid_run_resume_with_last_event_id_and_lose_nothing() {
    let app = TestApp::spawn_with(&[("SSE_RETRY_INTERVAL", "200")]).await;
    let (output, report) =
        run_with_a_cut(&app, "cut", 20, 4, Duration::from_millis(2000), Duration::from_millis(500)).await;

    assert!(output.status.success(), "{report:#}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(count(&report, "reconnects") >= 20, "every stream was cut: {report:#}");
    assert_eq!(count(&report, "published"), 80);
    assert_eq!(count(&report, "received"), 20 * 80, "{report:#}");
    assert_eq!((count(&report, "lost"), count(&report, "duplicated")), (0, 0));
    app.stop().await;
}

#[tokio::test]
async fn events_missed_beyond_the_replay_limit_are_reported_lost_and_fail_the_run() {
    let app = TestApp::spawn_with(&[("SSE_RETRY_INTERVAL", "200"), ("SSE_REPLAY_LIMIT", "2")]).await;
    // ~16 events are missed during the cut, over the replay limit of 2.
    let (output, report) =
        run_with_a_cut(&app, "gap", 5, 3, Duration::from_millis(1200), Duration::from_millis(800)).await;

    assert!(!output.status.success(), "losses must fail the run: {report:#}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("dashboard:")).collect();
    assert!(errors.len() == 1 && errors[0].contains("events lost"), "one error line: {stderr}");
    assert!(count(&report, "lost") > 0, "{report:#}");
    assert!(count(&report, "received") + count(&report, "lost") == 5 * count(&report, "published"), "{report:#}");
    assert!(report["errors"]["reset"].as_u64().unwrap_or(0) >= 5, "each client got a reset: {report:#}");
    app.stop().await;
}

#[tokio::test]
async fn bad_targets_give_one_line_errors() {
    let app = TestApp::spawn().await;
    let cases = [
        (app.url("/health"), "not an event stream"),
        (app.url("/dashboard/stream?boards=no-such-board"), "HTTP 404"),
        ("http://127.0.0.1:1/dashboard/stream".to_string(), "cannot connect"),
    ];
    for (url, expected) in cases {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard"))
            .args(["loadtest", "--url", &url, "--duration", "1"])
            .env_remove("DATABASE_URL")
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(expected) && stderr.lines().count() == 1,
            "{url}: {stderr}"
        );
    }
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard"))
        .args(["loadtest", "--clients", "1000000", "--url", &app.url("/dashboard/stream")])
        .env_remove("DATABASE_URL")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("open files") && stderr.lines().count() == 1, "{stderr}");
    app.stop().await;
}
