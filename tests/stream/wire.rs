use serde_json::json;

use super::WAIT;
use crate::common::TestApp;
use crate::common::sse::SseClient;

#[tokio::test]
async fn headers_retry_hello_and_widget_frames() {
    let app = TestApp::spawn_with(&[("SSE_RETRY_INTERVAL", "2500")]).await;
    app.create_board("ops", &[("cpu", "gauge")]).await;
    let before = app.push("ops", "cpu", json!({"value": 1})).await;

    let mut stream = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.headers["content-type"], "text/event-stream");
    assert_eq!(stream.headers["cache-control"], "no-cache");
    assert_eq!(stream.headers["x-accel-buffering"], "no");

    let retry = stream.next(WAIT).await.unwrap();
    assert_eq!(retry.retry, Some(2500));
    let hello = stream.next(WAIT).await.unwrap();
    assert_eq!(hello.event.as_deref(), Some("hello"));
    assert_eq!(hello.id, None);
    assert_eq!(hello.json(), json!({"mode": "pubsub", "last_event_id": before, "heartbeat_s": 30}));

    let id = app.push("ops", "cpu", json!({"value": 73.5})).await;
    let frame = stream.next_event(WAIT).await.unwrap();
    assert_eq!((frame.id, frame.event.as_deref()), (Some(id), Some("widget")));
    let data = frame.json();
    assert_eq!(data["id"], id);
    assert_eq!(data["board"], "ops");
    assert_eq!(data["widget"], "cpu");
    assert_eq!(data["kind"], "gauge");
    assert_eq!(data["value"], json!({"value": 73.5}));
    assert!(data["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn heartbeats_arrive_on_schedule() {
    let app = TestApp::spawn_with(&[("SSE_HEARTBEAT_INTERVAL", "1")]).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    let hello = stream.next_event(WAIT).await.unwrap();
    assert_eq!(hello.json()["heartbeat_s"], 1);
    for _ in 0..2 {
        let frame = stream.next(WAIT).await.unwrap();
        assert_eq!(frame.comment.as_deref(), Some("heartbeat"));
    }
}

#[tokio::test]
async fn the_boards_filter_keeps_other_boards_out() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("cpu", "number")]).await;
    app.create_board("sales", &[("deals", "number")]).await;
    let mut ops = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
    let mut both = SseClient::connect(&app.url("/dashboard/stream?boards=ops,sales"), None).await;
    let mut all = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    for stream in [&mut ops, &mut both, &mut all] {
        stream.next_event(WAIT).await.unwrap(); // hello
    }
    let sales = app.push("sales", "deals", json!({"value": 1})).await;
    let cpu = app.push("ops", "cpu", json!({"value": 2})).await;
    assert_eq!(ops.widget_ids(1, WAIT).await, [cpu]);
    assert_eq!(both.widget_ids(2, WAIT).await, [sales, cpu]);
    assert_eq!(all.widget_ids(2, WAIT).await, [sales, cpu]);
}

#[tokio::test]
async fn an_unknown_board_is_404_before_streaming() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let response = app.get("/dashboard/stream?boards=ops,nope").await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn a_last_event_id_header_that_is_not_text_is_refused_like_any_bad_id() {
    let app = TestApp::spawn().await;
    let garbage = reqwest::header::HeaderValue::from_bytes(b"12\xff").unwrap();
    let response = app.client.get(app.url("/dashboard/stream")).header("Last-Event-ID", garbage).send().await.unwrap();
    assert_eq!(response.status(), 400, "not a silent fresh start");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn structure_changes_arrive_as_board_events() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
    stream.next_event(WAIT).await.unwrap();
    app.post("/dashboard/boards/ops/widgets", json!({"key": "cpu", "title": "CPU", "kind": "gauge"})).await;
    let frame = stream.next_event(WAIT).await.unwrap();
    assert_eq!((frame.event.as_deref(), frame.id), (Some("board"), None));
    assert_eq!(frame.json(), json!({"board": "ops", "action": "widget_created"}));
    app.send(reqwest::Method::PATCH, "/dashboard/boards/ops", Some(json!({"title": "Ops"}))).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().json()["action"], "updated");
}

#[tokio::test]
async fn a_renamed_board_tells_the_streams_of_its_old_name() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let mut old_name = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
    old_name.next_event(WAIT).await.unwrap();
    let response = app.send(reqwest::Method::PATCH, "/dashboard/boards/ops", Some(json!({"slug": "ops-floor"}))).await;
    assert_eq!(response.status(), 200);
    // Its events now carry the new name, which this stream filters out: it must hear of it.
    let frame = old_name.next_event(WAIT).await.expect("a board event for the old name");
    assert_eq!(frame.json(), json!({"board": "ops", "action": "renamed"}));
}

#[tokio::test]
async fn a_separate_stream_server_answers_cors_for_the_allowed_origin() {
    let app = TestApp::spawn_with(&[("ALLOWED_ORIGINS", "http://pages.example")]).await;
    let stream_app = TestApp::spawn_on(
        &app.database_url,
        dashboard::startup::Role::StreamOnly,
        &[("ALLOWED_ORIGINS", "http://pages.example")],
    )
    .await;
    let get = |origin: &'static str| {
        stream_app.client.get(stream_app.url("/dashboard/stream")).header("Origin", origin).send()
    };
    let allowed = get("http://pages.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://pages.example");
    let refused = get("http://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    // The stream-only server has no API and no pages.
    assert_eq!(stream_app.get("/dashboard").await.status(), 404);
    assert_eq!(stream_app.get("/health").await.status(), 200);
    assert_eq!(stream_app.get("/dashboard/debug").await.status(), 200);
}
