//! Hostile and malformed requests: each gets a 4xx with the JSON error body, and the database
//! is left exactly as it was.

use serde_json::{Value as Json, json};

use crate::common::TestApp;

struct Case {
    name: &'static str,
    path: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
}

fn case(
    name: &'static str,
    path: &'static str,
    content_type: &'static str,
    body: impl Into<Vec<u8>>,
    status: u16,
) -> Case {
    Case { name, path, content_type, body: body.into(), status }
}

fn cases() -> Vec<Case> {
    const PUSH: &str = "/dashboard/boards/ops/widgets/t/events";
    const BOARDS: &str = "/dashboard/boards";
    const JSON: &str = "application/json";
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!(r#"{{"text": "a", "x": {}1{}}}"#, "[".repeat(200), "]".repeat(200));
    vec![
        case("malformed json", PUSH, JSON, "{\"text\": ", 400),
        case("deeply nested json", PUSH, JSON, deep, 400),
        case("nesting over the parser's depth limit", PUSH, JSON, deep_object, 400),
        case("nul byte in a value", PUSH, JSON, r#"{"text": "a\u0000b"}"#, 422),
        case("nul byte in a key", PUSH, JSON, r#"{"text": "a", "k\u0000": 1}"#, 422),
        case("nul byte in a title", BOARDS, JSON, r#"{"title": "a\u0000b"}"#, 422),
        case("1 MB string", PUSH, JSON, format!(r#"{{"text": "{}"}}"#, "x".repeat(1_000_000)), 413),
        case("sql in a slug", BOARDS, JSON, r#"{"slug": "x'; DROP TABLE boards; --", "title": "t"}"#, 422),
        case(
            "sql in a title is only text",
            BOARDS,
            JSON,
            r#"{"slug": "sql", "title": "x'; DROP TABLE boards; --"}"#,
            201,
        ),
        case("unicode slug", BOARDS, JSON, r#"{"slug": "tableau-de-bord-été", "title": "t"}"#, 422),
        case("over-long slug", BOARDS, JSON, format!(r#"{{"slug": "{}", "title": "t"}}"#, "a".repeat(64)), 422),
        case("title over 200 chars", BOARDS, JSON, format!(r#"{{"title": "{}"}}"#, "é".repeat(201)), 422),
        case("form encoded", PUSH, "application/x-www-form-urlencoded", "text=hello", 415),
        case("text/plain", PUSH, "text/plain", r#"{"text": "hi"}"#, 415),
        case("no content type", PUSH, "", r#"{"text": "hi"}"#, 415),
        case("json array body", BOARDS, JSON, "[1,2,3]", 422),
        case("json string body", PUSH, JSON, r#""hello""#, 422),
        case("invalid utf-8", PUSH, JSON, vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'], 400),
        case("empty body", PUSH, JSON, "", 400),
    ]
}

#[tokio::test]
async fn hostile_inputs_get_4xx_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("t", "text")]).await;
    for case in cases() {
        let before = (app.count("boards").await, app.count("events").await);
        let mut request = app.client.post(app.url(case.path)).bearer_auth(&app.token).body(case.body);
        if !case.content_type.is_empty() {
            request = request.header("content-type", case.content_type);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert_eq!(status, case.status, "{}", case.name);
        if status >= 400 {
            let body: Json = response.json().await.unwrap_or(Json::Null);
            assert!(body["error"]["code"].is_string(), "{}: error body {body}", case.name);
            assert_eq!(
                (app.count("boards").await, app.count("events").await),
                before,
                "{} changed the data",
                case.name
            );
        }
    }
    // The board named with SQL is stored as plain text, and the tables are all still there.
    let board: Json = app.get("/dashboard/boards/sql").await.json().await.unwrap();
    assert_eq!(board["title"], "x'; DROP TABLE boards; --");
}

#[tokio::test]
async fn hostile_paths_and_queries_are_4xx() {
    let app = TestApp::spawn().await;
    for path in [
        "/dashboard/boards/%00",
        "/dashboard/boards/..%2F..%2Fetc%2Fpasswd",
        "/dashboard/boards/x'%20OR%201=1--",
        "/dashboard/stream?boards=Not%20A%20Slug",
        "/dashboard/stream?last_event_id=-5",
        "/dashboard/stream?last_event_id=abc",
    ] {
        let status = app.get(path).await.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
    }
}

/// Numbers out of range anywhere in a value or a config (jsonb would give 1.79e308 back as 309
/// digits) are a 422 naming the field, through every way in; nothing is stored.
#[tokio::test]
async fn numbers_out_of_range_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number"), ("li", "list"), ("s", "status")]).await;
    let huge = f64::MAX;
    let push = |widget: &str| format!("/dashboard/boards/ops/widgets/{widget}/events");
    let widgets = "/dashboard/boards/ops/widgets".to_string();
    let good = json!({"board": "ops", "widget": "n", "value": {"value": 1}});
    let cases = [
        (push("n"), json!({"value": huge}), "value"),
        (push("n"), json!({"value": -1e-300}), "value"),
        (push("n"), json!({"value": 1, "extra": {"a": [0, 1, huge]}}), "extra.a[2]"),
        (push("li"), json!({"items": [{"label": "a", "value": 1}, {"label": "b", "value": huge}]}), "items[1].value"),
        (push("s"), json!({"status": "ok", "weight": 1e19}), "weight"),
        (
            "/dashboard/events".into(),
            json!({"events": [good, {"board": "ops", "widget": "n", "value": {"value": huge}}]}),
            "events[1].value.value",
        ),
        (widgets.clone(), json!({"key": "g", "title": "G", "kind": "gauge", "config": {"max": huge}}), "config.max"),
        (
            widgets,
            json!({"key": "g", "title": "G", "kind": "gauge", "config": {"thresholds": [{"value": huge, "color": "red"}]}}),
            "config.thresholds[0].value",
        ),
    ];
    for (path, body, field) in cases {
        let response = app.post(&path, body.clone()).await;
        assert_eq!(response.status(), 422, "{path} {body}");
        let error: Json = response.json().await.unwrap();
        let message = error["error"]["details"][field].as_str().unwrap_or_default();
        assert!(message.contains("out of range"), "{field} not named: {error}");
    }
    let patch = json!({"config": {"unit": "x", "max": huge}});
    let response = app.send(reqwest::Method::PATCH, "/dashboard/boards/ops/widgets/n", Some(patch)).await;
    assert_eq!(response.status(), 422);
    assert!(response.json::<Json>().await.unwrap()["error"]["details"]["config.max"].is_string());
    assert_eq!((app.count("widgets").await, app.count("events").await), (3, 0), "nothing was stored");
    let widget: Json = app.get("/dashboard/boards/ops/widgets/n").await.json().await.unwrap();
    assert_eq!(widget["config"], json!({}), "the refused patch changed nothing");
}
