use serde_json::{Value as Json, json};

use super::source_server::{KEY, SourceServer};
use super::{TestRunner, WAIT, create_board, fresh_db, job, job_after_runs, source, values_of, wait_for};
use crate::common::TestApp;
use crate::common::sse::SseClient;

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
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("http://127.0.0.1:{closed_port}/value");
    let app = TestApp::spawn_with(&[("ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    // (widget, kind, URL, pointer, what its error says, what the public sees of it)
    let cases = [
        ("http-500", "number", server.url("/error"), "", "HTTP 500", "HTTP 5xx"),
        ("http-404", "number", server.url("/nothing-here"), "", "HTTP 404", "HTTP 4xx"),
        ("closed", "number", closed, "", "cannot fetch from 127.0.0.1", "unreachable"),
        ("timeout", "number", server.url("/slow"), "/value", "no answer within 5 s", "timeout"),
        ("not-json", "number", server.url("/html"), "", "not JSON", "not JSON"),
        (
            "no-pointer",
            "number",
            server.url("/counter"),
            "/data/nope",
            "no value at JSON Pointer \"/data/nope\"",
            "no value at the pointer",
        ),
        ("wrong-kind", "number", server.url("/text"), "/data/cpu", "does not fit a number widget", "value rejected"),
        ("huge", "number", server.url("/huge"), "/value", "value is out of range", "value rejected"),
        ("too-big", "text", server.url("/big"), "/value", "larger than 1024 KiB", "too large"),
        ("redirects", "number", server.url("/redirect/4"), "/value", "more than 3 redirects", "too many redirects"),
    ];
    let mut widgets: Vec<(&str, &str, Json)> =
        cases.iter().map(|(key, kind, url, pointer, ..)| (*key, *kind, source(url, 5, pointer))).collect();
    widgets.push(("redirected", "number", source(&server.url("/redirect/3"), 5, "/value")));
    create_board(&app.db, "ops", &widgets).await;

    for (key, _, url, _, expected, class) in &cases {
        let name = format!("source:ops/{key}");
        let failed = wait_for(&format!("{name} to fail twice"), || async {
            job(&app.db, &name).await.filter(|j| j.failures >= 2 && j.running_on.is_none())
        })
        .await;
        let error = failed.last_error.clone().unwrap_or_default();
        assert!(error.contains(expected), "{key}: {expected:?} not in {error:?}");
        assert!(!error.contains(url.as_str()), "{key}: the URL is not shown: {error}");
        assert!(values_of(&app.db, "ops", key).await.is_empty(), "{key}: nothing pushed");
        let path = format!("/dashboard/boards/ops/widgets/{key}");
        let public: Json = app.get(&path).await.json().await.unwrap();
        assert_eq!(public["source_error"], json!(class), "{key}: the public sees the class only");
        assert!(public.get("source_error_detail").is_none(), "{key}: {public}");
        let managed: Json = app.send(reqwest::Method::GET, &path, None).await.json().await.unwrap();
        assert_eq!(managed["source_error"], json!(class), "{key}");
        assert_eq!(managed["source_error_detail"].as_str(), failed.last_error.as_deref(), "{key}: detail with a token");
    }
    let debug = app.get("/dashboard/debug").await.text().await.unwrap();
    assert!(!debug.contains("HTTP 404") && !debug.contains("cannot fetch"), "no detail in the debug JSON: {debug}");
    assert_eq!(values_of(&app.db, "ops", "redirected").await[0], json!({"value": 3}), "3 redirects are followed");
    assert_eq!(app.get("/health").await.status(), 200, "the app is unharmed");
    app.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn source_headers_are_sent_but_never_shown() {
    let server = SourceServer::start().await;
    let app = TestApp::spawn_with(&[("ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    app.create_board("ops", &[]).await;
    let url = server.url("/keyed?api_key=query-k3y");
    let config =
        json!({"source": {"url": url, "interval_s": 5, "pointer": "/value", "headers": {"Authorization": KEY}}});
    let created = app
        .post(
            "/dashboard/boards/ops/widgets",
            json!({"key": "kpi", "title": "KPI", "kind": "number", "config": config}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created = created.text().await.unwrap();
    assert!(!created.contains("s3cret"), "the answer to the write hides the header's value: {created}");

    wait_for("a value fetched with the key", || async { values_of(&app.db, "ops", "kpi").await.first().cloned() })
        .await;
    let mut shown = Vec::new();
    for path in ["/dashboard/boards/ops/widgets/kpi", "/dashboard/boards/ops", "/boards/ops", "/dashboard/debug"] {
        shown.push((path, "public", app.get(path).await.text().await.unwrap()));
    }
    let managed = app.send(reqwest::Method::GET, "/dashboard/boards/ops/widgets/kpi", None).await;
    shown.push(("/dashboard/boards/ops/widgets/kpi", "token", managed.text().await.unwrap()));
    for (path, viewer, body) in &shown {
        assert!(!body.contains("s3cret"), "{viewer} {path} shows the header's value: {body}");
    }
    for (path, _, body) in &shown[..3] {
        assert!(!body.contains("query-k3y") && !body.contains("/keyed"), "public {path} shows the source: {body}");
    }
    let managed: Json = serde_json::from_str(&shown[4].2).unwrap();
    assert_eq!(managed["config"]["source"]["url"], json!(url), "a token sees the source");
    assert_eq!(managed["config"]["source"]["header_names"], json!(["authorization"]));

    // Sent back without headers (as read with a token), the source keeps them …
    let path = "/dashboard/boards/ops/widgets/kpi";
    let mut edited = managed["config"].clone();
    edited["source"]["interval_s"] = json!(6);
    let patched = app.send(reqwest::Method::PATCH, path, Some(json!({"config": edited}))).await;
    assert_eq!(patched.status(), 200);
    assert_eq!(app.stored_source_headers("kpi").await, json!({"authorization": KEY}));
    // … but not to another host, …
    edited["source"]["url"] = json!(format!("http://localhost:{}/keyed", server.port));
    let moved = app.send(reqwest::Method::PATCH, path, Some(json!({"config": edited.clone()}))).await;
    assert_eq!(moved.status(), 422);
    let error: Json = moved.json().await.unwrap();
    assert!(error["error"]["details"]["config.source.headers"].is_string(), "{error}");
    // … and `{}` drops them.
    edited["source"]["headers"] = json!({});
    assert_eq!(app.send(reqwest::Method::PATCH, path, Some(json!({"config": edited}))).await.status(), 200);
    assert_eq!(app.stored_source_headers("kpi").await, json!({}));
    app.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn a_host_listed_with_a_port_is_allowed_on_that_port_only() {
    let (listed, other) = (SourceServer::start().await, SourceServer::start().await);
    let (url, db) = fresh_db().await;
    let widgets = [
        ("listed", "number", source(&listed.url("/counter"), 5, "/data/cpu")),
        ("other", "number", source(&other.url("/counter"), 5, "/data/cpu")),
    ];
    create_board(&db, "ops", &widgets).await;

    let allowed = format!("127.0.0.1:{}", listed.port);
    let runner = TestRunner::start(&url, &[("ALLOWED_SOURCE_HOSTS", &allowed)]).await;
    job_after_runs(&db, "source:ops/listed", 1).await;
    let refused = wait_for("the other port to be refused", || async {
        job(&db, "source:ops/other").await.filter(|j| j.failures >= 1 && j.running_on.is_none())
    })
    .await;
    runner.stop().await;
    assert!(!values_of(&db, "ops", "listed").await.is_empty(), "the listed port is reached");
    let error = refused.last_error.unwrap_or_default();
    assert!(error.starts_with(&format!("refused: 127.0.0.1:{}", other.port)), "{error}");
    assert_eq!(other.hits("/counter"), 0, "no request reached the other port");
    listed.stop().await;
    other.stop().await;
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
        assert!(error.starts_with(&format!("refused: {host} is not a public address")), "{name}: {error}");
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
