//! Connection limits, freed slots, slow readers and shutdown.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tokio::io::AsyncWriteExt;

use super::WAIT;
use crate::common::served::Server;
use crate::common::sse::{SseClient, assert_ids};
use crate::common::{TestApp, fresh_database};

pub async fn open_connections(app: &TestApp) -> u64 {
    let debug: Json = app.get("/dashboard/debug").await.json().await.unwrap();
    debug["stream"]["connections"].as_u64().unwrap()
}

async fn wait_for_connections(app: &TestApp, expected: u64) {
    for _ in 0..100 {
        if open_connections(app).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("open streams never came down to {expected} (now {})", open_connections(app).await);
}

#[tokio::test]
async fn past_the_limit_is_503_and_a_closed_client_frees_its_slot() {
    let app = TestApp::spawn_with(&[("SSE_MAX_CONNECTIONS", "2")]).await;
    let first = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    let _second = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    let response = app.get("/dashboard/stream").await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(response.json::<Json>().await.unwrap()["error"]["code"], "service_unavailable");

    drop(first);
    wait_for_connections(&app, 1).await;
    let again = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    assert_eq!(again.status, 200);
}

#[tokio::test]
async fn past_the_per_address_limit_is_429_and_a_closed_stream_frees_its_slot() {
    let app = TestApp::spawn_with(&[("SSE_MAX_CONNECTIONS_PER_IP", "2"), ("TRUST_PROXY", "true")]).await;
    let first = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    let second = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    assert_eq!((first.status, second.status), (200, 200));
    let response = app.get("/dashboard/stream").await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(response.json::<Json>().await.unwrap()["error"]["code"], "rate_limited");

    let other = app.client.get(app.url("/dashboard/stream")).header("X-Forwarded-For", "203.0.113.10");
    let other = other.send().await.unwrap();
    assert_eq!(other.status(), 200, "another address has slots of its own");

    drop(first);
    wait_for_connections(&app, 2).await;
    let again = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    assert_eq!(again.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_reader_is_cut_off_without_holding_up_the_others() {
    let app = TestApp::spawn_with(&[("SSE_HEARTBEAT_INTERVAL", "1")]).await;
    app.create_board("ops", &[("t", "text")]).await;
    let mut reader = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    reader.next_event(WAIT).await.unwrap();

    // A client that asks for the stream and never reads a byte, with a tiny receive buffer.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(([127, 0, 0, 1], app.port).into()).await.unwrap();
    stalled.write_all(b"GET /dashboard/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n").await.unwrap();
    wait_for_connections(&app, 2).await;

    // The reading client reads all along; the stalled one's socket fills and stays full.
    let expected_count = 2000;
    // The reader comes back with its ids: it stays open, so only the stalled stream may end.
    let reading = tokio::spawn(async move { (reader.widget_ids(expected_count, WAIT).await, reader) });
    let text = "x".repeat(4000);
    let mut pushed = Vec::new();
    for _ in 0..10 {
        let events: Vec<Json> =
            (0..200).map(|_| json!({"board": "ops", "widget": "t", "value": {"text": text}})).collect();
        let response = app.post("/dashboard/events", json!({ "events": events })).await;
        let ids: Json = response.json().await.unwrap();
        pushed.extend(ids["ids"].as_array().unwrap().iter().map(|id| id.as_i64().unwrap()));
    }
    let (ids, _reader) = reading.await.unwrap();
    assert_ids(&ids, &pushed);
    wait_for_connections(&app, 1).await;
    drop(stalled);
}

#[tokio::test]
async fn sigterm_ends_open_streams_and_exits_promptly() {
    let database_url = fresh_database().await;
    let mut server = Server::start(&database_url, &[("SSE_MAX_CONNECTIONS", "1000")]).await;
    let url = server.url("/dashboard/stream");
    let mut streams = Vec::new();
    for _ in 0..300 {
        let mut stream = SseClient::connect(&url, None).await;
        stream.next_event(WAIT).await.expect("hello");
        streams.push(stream);
    }
    let started = Instant::now();
    Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed();
    assert!(status.success(), "clean exit, got {status}");
    assert!(took < Duration::from_secs(10), "took {took:?} to stop with 300 open streams");
    for stream in &mut streams {
        assert!(stream.ends_within(WAIT).await, "every stream ends");
    }
}
