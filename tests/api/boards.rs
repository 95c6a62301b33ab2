use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::common::TestApp;

#[tokio::test]
async fn board_life_cycle() {
    let app = TestApp::spawn().await;
    let response = app.post("/dashboard/boards", json!({"title": "Ops Floor", "columns": 6})).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["location"], "/dashboard/boards/ops-floor");
    let board: Json = response.json().await.unwrap();
    assert_eq!(board["slug"], "ops-floor");
    assert_eq!(board["columns"], 6);
    assert_eq!(board["description"], "");

    let list: Json = app.get("/dashboard").await.json().await.unwrap();
    assert_eq!(list["boards"][0]["slug"], "ops-floor");
    assert_eq!(list["boards"][0]["widget_count"], 0);

    let response = app.send(Method::PATCH, "/dashboard/boards/ops-floor", Some(json!({"title": "Ops"}))).await;
    assert_eq!(response.status(), 200);
    let board: Json = response.json().await.unwrap();
    assert_eq!((board["title"].as_str(), board["columns"].as_i64()), (Some("Ops"), Some(6)));

    let response = app.send(Method::DELETE, "/dashboard/boards/ops-floor", None).await;
    assert_eq!(response.status(), 204);
    assert_eq!(app.get("/dashboard/boards/ops-floor").await.status(), 404);
    assert_eq!(app.send(Method::DELETE, "/dashboard/boards/ops-floor", None).await.status(), 404);
}

#[tokio::test]
async fn deleting_a_board_removes_its_widgets_and_events() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("cpu", "gauge")]).await;
    app.push("ops", "cpu", json!({"value": 1})).await;
    app.send(Method::DELETE, "/dashboard/boards/ops", None).await;
    assert_eq!((app.count("widgets").await, app.count("events").await), (0, 0));
}

#[tokio::test]
async fn snapshot_has_every_widget_with_its_latest_event() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("cpu", "gauge"), ("motd", "text")]).await;
    app.push("ops", "cpu", json!({"value": 10})).await;
    let last = app.push("ops", "cpu", json!({"value": 20})).await;
    let board: Json = app.get("/dashboard/boards/ops").await.json().await.unwrap();
    let widgets = board["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 2);
    assert_eq!(widgets[0]["key"], "cpu");
    assert_eq!(widgets[0]["latest"]["value"], json!({"value": 20}));
    assert_eq!(widgets[0]["latest"]["id"], last);
    assert_eq!(widgets[1]["latest"], Json::Null);
    assert_eq!(board["last_event_id"], last);
}

#[tokio::test]
async fn duplicate_slug_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let response = app.post("/dashboard/boards", json!({"slug": "ops", "title": "Again"})).await;
    assert_eq!(response.status(), 409);
    let body: Json = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");
    assert!(body["error"]["details"]["slug"].is_string());
    assert_eq!(app.count("boards").await, 1);
}

#[tokio::test]
async fn invalid_board_fields_are_each_named() {
    let app = TestApp::spawn().await;
    let response = app.post("/dashboard/boards", json!({"slug": "Not A Slug", "title": "", "columns": 0})).await;
    assert_eq!(response.status(), 422);
    let body: Json = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    for field in ["slug", "title", "columns"] {
        assert!(body["error"]["details"][field].is_string(), "{field}: {body}");
    }
    assert_eq!(app.count("boards").await, 0);
}

#[tokio::test]
async fn unknown_board_and_route_are_json_404s() {
    let app = TestApp::spawn().await;
    for path in ["/dashboard/boards/nope", "/dashboard/nothing-here"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Json = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405_naming_the_allowed_ones() {
    let app = TestApp::spawn().await;
    app.create_board("b", &[("w", "number")]).await;
    for (method, path, allowed) in [
        ("PUT", "/dashboard", "GET"),
        ("DELETE", "/dashboard/boards", "POST"),
        ("GET", "/dashboard/events", "POST"),
        ("POST", "/dashboard/stream", "GET"),
        ("PUT", "/dashboard/boards/b/widgets/w", "PATCH"),
        ("POST", "/health", "GET"),
        ("DELETE", "/metrics", "GET"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app.client.request(method.clone(), app.url(path)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        let allow = response.headers()["allow"].to_str().unwrap().to_string();
        assert!(allow.contains(allowed), "{method} {path}: Allow: {allow}");
        let body: Json = response.json().await.unwrap_or(Json::Null);
        assert_eq!(body["error"]["code"], "method_not_allowed", "{method} {path}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(allowed), "{body}");
    }
}

#[tokio::test]
async fn health_and_debug_report_their_parts() {
    let app = TestApp::spawn().await;
    let health: Json = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["database"], "ok");
    assert_eq!(health["redis"], "ok");
    // Uptime monitors and load balancers often ask with HEAD.
    assert_eq!(app.client.head(app.url("/health")).send().await.unwrap().status(), 200);
    let debug: Json = app.get("/dashboard/debug").await.json().await.unwrap();
    for key in ["version", "uptime_s", "instance", "stream", "redis", "database"] {
        assert!(!debug[key].is_null(), "{key} missing: {debug}");
    }
    assert_eq!(debug["stream"]["max_connections"], 10_000);
    assert!(!debug.to_string().contains("postgres://"), "no URLs in debug output");
}

#[tokio::test]
async fn without_redis_health_says_disabled_and_polling() {
    let app = TestApp::spawn_with(&[("REDIS_URL", "")]).await;
    let health: Json = app.get("/health").await.json().await.unwrap();
    assert_eq!(health, json!({"status": "ok", "database": "ok", "redis": "disabled", "stream_mode": "polling"}));
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = TestApp::spawn().await;
    app.get("/dashboard").await;
    let body = app.get("/metrics").await.text().await.unwrap();
    for name in ["dashboard_stream_connections", "dashboard_events_delivered_total", "dashboard_http_requests_total"] {
        assert!(body.contains(name), "{name} missing in\n{body}");
    }
    assert!(body.contains("route=\"/dashboard\""), "{body}");
}

/// Snapshots are cached per process; every change must show on the next read.
#[tokio::test]
async fn a_cached_snapshot_never_hides_a_change() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("cpu", "gauge")]).await;
    let latest = |board: Json| board["widgets"][0]["latest"]["value"]["value"].clone();
    for value in [1, 2, 3] {
        app.get("/dashboard/boards/ops").await; // fills the cache
        let id = app.push("ops", "cpu", json!({"value": value})).await;
        let board: Json = app.get("/dashboard/boards/ops").await.json().await.unwrap();
        assert_eq!((latest(board.clone()), board["last_event_id"].as_i64()), (json!(value), Some(id)));
    }
    app.post("/dashboard/boards/ops/widgets", json!({"key": "mem", "title": "Memory", "kind": "gauge"})).await;
    let board: Json = app.get("/dashboard/boards/ops").await.json().await.unwrap();
    assert_eq!(board["widgets"].as_array().unwrap().len(), 2);
    app.send(Method::PATCH, "/dashboard/boards/ops", Some(json!({"slug": "ops-2"}))).await;
    assert_eq!(app.get("/dashboard/boards/ops").await.status(), 404, "the old slug is gone at once");
}

#[tokio::test]
async fn a_push_to_another_instance_shows_in_this_ones_snapshot() {
    let prefix = format!("shared-{}", crate::common::rand_suffix());
    let env = [("REDIS_CHANNEL_PREFIX", prefix.as_str())];
    let writer = TestApp::spawn_with(&env).await;
    let reader = TestApp::spawn_on(&writer.database_url, dashboard::startup::Role::Web, &env).await;
    writer.create_board("ops", &[("cpu", "gauge")]).await;
    reader.get("/dashboard/boards/ops").await; // cached on the reader
    let id = writer.push("ops", "cpu", json!({"value": 9})).await;
    let mut seen = 0;
    for _ in 0..50 {
        let board: Json = reader.get("/dashboard/boards/ops").await.json().await.unwrap();
        seen = board["last_event_id"].as_i64().unwrap();
        if seen == id {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen, id, "the reader's snapshot caught up");
}
