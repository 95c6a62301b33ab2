use serde_json::{Value as Json, json};

use crate::common::TestApp;
use crate::common::sse::SseClient;
use crate::source_server::SourceServer;
use crate::{TestRunner, WAIT, create_board, fresh_db, job, job_after_runs, source, values_of, wait_for};

/// Reads the stream until `count` widget events arrived; returns their data.
async fn widget_events(stream: &mut SseClient, count: usize) -> Vec<Json> {
    let mut events = Vec::new();
    while events.len() < count {
        let frame = stream.next(WAIT).await.expect("the stream delivers the source's values");
        if frame.event.as_deref() == Some("widget") {
            events.push(frame.json());
        }
    }
    events
}

#[tokio::test]
async fn a_pull_source_pushes_values_on_schedule_and_they_stream() {
    let server = SourceServer::start().await;
    let app = TestApp::spawn_with(&[("ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    app.create_board("ops", &[]).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
    let config = source(&server.url("/counter"), 5, "/data/cpu");
    let created = app
        .post("/dashboard/boards/ops/widgets", json!({"key": "cpu", "title": "CPU", "kind": "gauge", "config": config}))
        .await;
    assert_eq!(created.status(), 201);

    let events = widget_events(&mut stream, 2).await;
    assert_eq!(events[0]["widget"], "cpu");
    assert_eq!(events[0]["value"], json!({"value": 1}), "a bare number becomes {{\"value\": n}}");
    assert_eq!(events[1]["value"], json!({"value": 2}));
    let at = |e: &Json| chrono::DateTime::parse_from_rfc3339(e["created_at"].as_str().unwrap()).unwrap();
    let gap = (at(&events[1]) - at(&events[0])).num_milliseconds();
    // The schedule is fixed-rate: the second run is due 5 s after the first was due, so the gap
    // is 5 s less however late the first run started (at most a poll interval, or more on a
    // loaded machine); what must not happen is a run well before it is due.
    assert!(gap >= 2500, "runs follow interval_s = 5 s (gap {gap} ms)");

    let widget: Json = app.get("/dashboard/boards/ops/widgets/cpu").await.json().await.unwrap();
    assert!(widget.get("source_error").is_none(), "no error on a working source: {widget}");
    // The second event is streamed as soon as it is committed; its run is recorded just after.
    let job = job_after_runs(&app.db, "source:ops/cpu", 2).await;
    assert_eq!((job.failures, job.last_error), (0, None));
    assert_eq!(server.hits("/counter") as i64, job.runs, "one request per run");
    let debug: Json = app.get("/dashboard/debug").await.json().await.unwrap();
    assert_eq!(debug["jobs"]["mode"], "inline");
    let listed = debug["jobs"]["jobs"].as_array().unwrap().iter().find(|j| j["name"] == "source:ops/cpu").cloned();
    assert!(listed.is_some_and(|j| j["runs"].as_i64() >= Some(2) && j["last_error"].is_null()), "{debug}");
    app.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn failing_sources_record_their_error_and_keep_running() {
    let server = SourceServer::start().await;
    let app = TestApp::spawn_with(&[("ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    // (widget, kind, path, pointer, what its error says)
    let cases = [
        ("http-500", "number", "/error", "", "HTTP 500"),
        ("timeout", "number", "/slow", "/value", "no answer within 5 s"),
        ("not-json", "number", "/html", "", "not JSON"),
        ("no-pointer", "number", "/counter", "/data/nope", "no value at JSON Pointer \"/data/nope\""),
        ("wrong-kind", "number", "/text", "/data/cpu", "does not fit a number widget"),
        ("huge", "number", "/huge", "/value", "value is out of range"),
        ("too-big", "text", "/big", "/value", "larger than 1024 KiB"),
        ("redirects", "number", "/redirect/4", "/value", "more than 3 redirects"),
    ];
    let mut widgets: Vec<(&str, &str, Json)> = cases
        .iter()
        .map(|(key, kind, path, pointer, _)| (*key, *kind, source(&server.url(path), 5, pointer)))
        .collect();
    widgets.push(("redirected", "number", source(&server.url("/redirect/3"), 5, "/value")));
    create_board(&app.db, "ops", &widgets).await;

    for (key, _, path, _, expected) in cases {
        let name = format!("source:ops/{key}");
        let failed = wait_for(&format!("{name} to fail twice"), || async {
            job(&app.db, &name).await.filter(|j| j.failures >= 2 && j.running_on.is_none())
        })
        .await;
        let error = failed.last_error.clone().unwrap_or_default();
        assert!(error.contains(expected), "{key}: {expected:?} not in {error:?}");
        assert!(!error.contains(&server.url(path)), "{key}: the URL is not shown: {error}");
        assert!(values_of(&app.db, "ops", key).await.is_empty(), "{key}: nothing pushed");
        let widget: Json = app.get(&format!("/dashboard/boards/ops/widgets/{key}")).await.json().await.unwrap();
        assert_eq!(widget["source_error"].as_str(), failed.last_error.as_deref(), "{key}: shown on the widget");
    }
    assert_eq!(values_of(&app.db, "ops", "redirected").await[0], json!({"value": 3}), "3 redirects are followed");
    assert_eq!(app.get("/health").await.status(), 200, "the app is unharmed");
    app.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let server = SourceServer::start().await;
    let (url, db) = fresh_db().await;
    let literal = source(&server.url("/counter"), 5, "/data/cpu");
    let named = source(&format!("http://localhost:{}/counter", server.port), 5, "/data/cpu");
    create_board(&db, "ops", &[("literal", "number", literal), ("named", "number", named)]).await;

    let runner = TestRunner::start(&url, &[]).await;
    for (name, host) in [("source:ops/literal", "127.0.0.1"), ("source:ops/named", "localhost")] {
        let refused = wait_for(&format!("{name} to be refused"), || async {
            job(&db, name).await.filter(|j| j.failures >= 1 && j.running_on.is_none())
        })
        .await;
        let error = refused.last_error.unwrap_or_default();
        assert!(error.starts_with(&format!("refused: {host} is a private")), "{name}: {error}");
    }
    runner.stop().await;
    assert_eq!(server.hits("/counter"), 0, "no request reached the private address");

    let runner = TestRunner::start(&url, &[("ALLOWED_SOURCE_HOSTS", "127.0.0.1, localhost")]).await;
    for (name, key) in [("source:ops/literal", "literal"), ("source:ops/named", "named")] {
        wait_for(&format!("{name} to succeed once allowed"), || async {
            job(&db, name).await.filter(|j| j.last_error.is_none() && j.runs >= 2)
        })
        .await;
        assert!(!values_of(&db, "ops", key).await.is_empty(), "{key}: pushed once allowed");
    }
    runner.stop().await;
    server.stop().await;
}
