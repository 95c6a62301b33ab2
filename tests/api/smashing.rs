//! The Smashing push API: the requests Smashing's jobs, widgets and docs send, answered as
//! Smashing answers, and stored and streamed as any push.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde_json::{Value as Json, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::sse::SseClient;
use crate::common::{TestApp, create_token};
use dashboard::domain::Role;

const WAIT: Duration = Duration::from_secs(5);
/// What `curl -d` (Smashing's documented way to push) sends a JSON body as.
const FORM: &str = "application/x-www-form-urlencoded";

/// Board `sample` with the widgets of Smashing's sample dashboard, as Dashboard kinds.
async fn sample_board(extra: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn_with(extra).await;
    let widgets = [
        ("valuation", "number"),
        ("synergy", "gauge"),
        ("convergence", "line"),
        ("buzzwords", "list"),
        ("welcome", "text"),
        ("deploys", "status"),
    ];
    app.create_board("sample", &widgets).await;
    app
}

/// `body` with `auth_token` added, posted as `curl -d` posts it; returns the status and body.
async fn smashing_post(app: &TestApp, path: &str, token: &str, body: Json) -> (u16, String) {
    let mut body = body;
    body["auth_token"] = token.into();
    let request = app.client.post(app.url(path)).header(CONTENT_TYPE, FORM).body(body.to_string());
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn stream_of(app: &TestApp, board: &str) -> SseClient {
    let stream = SseClient::connect(&app.url(&format!("/dashboard/stream?boards={board}")), None).await;
    assert_eq!(stream.status, 200);
    stream
}

/// The next `widget` frame's (widget, value).
async fn next_value(stream: &mut SseClient) -> (String, Json) {
    loop {
        let frame = stream.next_event(WAIT).await.expect("a frame arrives");
        if frame.event.as_deref() == Some("widget") {
            let event = frame.json();
            return (event["widget"].as_str().unwrap().to_string(), event["value"].clone());
        }
    }
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn each_smashing_shape_arrives_on_the_stream_as_its_mapped_value() {
    let app = sample_board(&[]).await;
    let mut stream = stream_of(&app, "sample").await;
    let x = now_secs() - 100;
    let at =
        |x: i64| chrono::DateTime::from_timestamp(x, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let buzzwords = json!([{"label": "Paradigm shift", "value": 3}, {"label": "Synergy", "value": "many"}]);
    // The calls of Smashing's sample jobs and widget docs, and what each becomes.
    let cases = [
        ("valuation", json!({"current": 42, "last": 40}), json!({"value": 42, "last": 40})),
        ("synergy", json!({"value": 73}), json!({"value": 73})),
        ("convergence", json!({"points": [{"x": x, "y": 5}, {"x": x + 1, "y": 8}]}), json!({"value": 5, "at": at(x)})),
        ("buzzwords", json!({"items": buzzwords}), json!({"items": buzzwords})),
        (
            "welcome",
            json!({"text": "Hello", "title": "Hi", "moreinfo": "from the job"}),
            json!({"text": "Hello", "title": "Hi", "moreinfo": "from the job"}),
        ),
        (
            "deploys",
            json!({"status": "danger", "text": "build 12 broke"}),
            json!({"status": "critical", "message": "build 12 broke"}),
        ),
    ];
    for (widget, body, expected) in cases {
        let (status, text) = smashing_post(&app, &format!("/widgets/{widget}"), &app.token, body).await;
        assert_eq!((status, text.as_str()), (204, ""), "{widget}");
        assert_eq!(next_value(&mut stream).await, (widget.to_string(), expected), "{widget}");
        if widget == "convergence" {
            assert_eq!(next_value(&mut stream).await, (widget.to_string(), json!({"value": 8, "at": at(x + 1)})));
        }
    }
}

#[tokio::test]
async fn a_smashing_table_widget_body_becomes_a_table_value() {
    let app = sample_board(&[]).await;
    app.post("/dashboard/boards/sample/widgets", json!({"key": "servers", "title": "Servers", "kind": "table"})).await;
    let mut stream = stream_of(&app, "sample").await;
    let body = json!({
        "hrows": [{"cols": [{"value": "Host"}, {"value": "Load"}]}],
        "rows": [{"cols": [{"value": "web-1"}, {"value": 0.5}]}, {"cols": [{"value": "<b>db</b>"}, {"value": 2}]}]
    });
    let (status, text) = smashing_post(&app, "/widgets/servers", &app.token, body).await;
    assert_eq!((status, text.as_str()), (204, ""));
    let expected = json!({"columns": ["Host", "Load"], "rows": [["web-1", 0.5], ["<b>db</b>", 2]]});
    assert_eq!(next_value(&mut stream).await, ("servers".to_string(), expected));
    let bad = json!({"rows": [{"cols": [{"value": "a"}]}, {"cols": [{"value": {"nested": 1}}]}]});
    let (status, text) = smashing_post(&app, "/widgets/servers", &app.token, bad).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("rows[1][0]"), "{text}");
    assert_eq!(app.count("events").await, 1);
}

#[tokio::test]
async fn a_graph_sent_whole_again_stores_only_its_new_points() {
    let app = sample_board(&[]).await;
    let first = now_secs() - 600;
    let points = |from: i64| (from..from + 10).map(|x| json!({"x": x, "y": x - first})).collect::<Vec<_>>();
    // As Smashing's convergence job does: the last 10 points each time, shifted by one.
    for shift in 0..3 {
        let body = json!({"points": points(first + shift)});
        assert_eq!(smashing_post(&app, "/widgets/convergence", &app.token, body).await.0, 204);
    }
    let history: Json = app.get("/dashboard/boards/sample/widgets/convergence/events").await.json().await.unwrap();
    let ys: Vec<i64> =
        history["events"].as_array().unwrap().iter().map(|e| e["value"]["value"].as_i64().unwrap()).collect();
    assert_eq!(ys, (0..12).collect::<Vec<_>>());
    assert_eq!(smashing_post(&app, "/widgets/convergence", &app.token, json!({"points": points(first)})).await.0, 204);
    assert_eq!(app.count("events").await, 12, "points no newer than the newest are not stored again");
}

#[tokio::test]
async fn bad_smashing_bodies_are_refused_with_the_json_error_and_store_nothing() {
    let app = sample_board(&[]).await;
    let x = now_secs();
    let many: Vec<Json> = (0..10_000).map(|i| json!({"x": x + i, "y": 1})).collect();
    let cases = [
        ("valuation", json!({"current": {"amount": 1}}), 422, "value"),
        ("deploys", json!({"status": "purple"}), 422, "status"),
        ("convergence", json!({"points": many}), 422, "points"),
        ("convergence", json!({"points": [{"x": x, "y": 1}, {"x": "noon", "y": 2}]}), 422, "points[1].x"),
        ("buzzwords", json!({"items": "none"}), 422, "items"),
    ];
    for (widget, body, expected, field) in cases {
        let (status, text) = smashing_post(&app, &format!("/widgets/{widget}"), &app.token, body).await;
        assert_eq!(status, expected, "{widget}: {text}");
        let error: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"]["code"], "validation_failed", "{text}");
        let message = error["error"]["details"][field].as_str().unwrap_or_else(|| panic!("{field} named: {text}"));
        if field == "points" {
            assert!(message.contains("10000") && message.contains("1000"), "says which limit: {message}");
        }
    }
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn a_wrong_token_is_a_401_that_tells_nothing_of_the_widgets() {
    let app = sample_board(&[("AUTH_FAILURE_LIMIT", "3")]).await;
    for widget in ["valuation", "no-such-widget"] {
        let response = app
            .client
            .post(app.url(&format!("/widgets/{widget}")))
            .header(CONTENT_TYPE, FORM)
            .body(json!({"auth_token": "dash_wrong", "current": 1}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{widget}");
        assert!(response.headers().contains_key("www-authenticate"));
        let error: Json = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "unauthorized", "{widget}");
    }
    let (status, _) = smashing_post(&app, "/widgets/valuation", "", json!({"current": 1})).await;
    assert_eq!(status, 401, "an empty auth_token");
    // The third failure from this address used up AUTH_FAILURE_LIMIT, as on the JSON API.
    let (status, text) = smashing_post(&app, "/widgets/valuation", &app.token, json!({"current": 1})).await;
    assert_eq!(status, 429, "{text}");
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn the_token_may_come_as_a_bearer_header_and_a_read_token_may_not_push() {
    let app = sample_board(&[]).await;
    let push = |token: String| {
        let url = app.url("/widgets/valuation");
        app.client.post(url).bearer_auth(token).body(json!({"current": 7}).to_string()).send()
    };
    assert_eq!(push(app.token.clone()).await.unwrap().status(), 204);
    let reader = create_token(&app.db, "reader", Role::Read, None).await;
    let refused = push(reader).await.unwrap();
    assert_eq!(refused.status(), 403);
    let error: Json = refused.json().await.unwrap();
    assert_eq!(error["error"]["details"], json!({"role": "read", "needs": "push"}));
    assert_eq!(app.count("events").await, 1);
}

#[tokio::test]
async fn a_widget_is_found_among_the_boards_the_token_may_push_to() {
    let app = sample_board(&[]).await;
    app.create_board("other", &[("valuation", "number"), ("karma-points", "number")]).await;
    let (status, text) = smashing_post(&app, "/widgets/valuation", &app.token, json!({"current": 1})).await;
    assert_eq!(status, 409, "{text}");
    let error: Json = serde_json::from_str(&text).unwrap();
    assert_eq!(error["error"]["code"], "conflict");
    assert_eq!(error["error"]["details"]["boards"], json!(["other", "sample"]));

    let limited = create_token(&app.db, "pusher", Role::Push, Some(&["sample"])).await;
    assert_eq!(smashing_post(&app, "/widgets/valuation", &limited, json!({"current": 2})).await.0, 204);
    let (status, text) = smashing_post(&app, "/widgets/karma_points", &limited, json!({"current": 3})).await;
    assert_eq!(status, 404, "not on the boards this token may push to: {text}");
    // A snake_case Smashing id names the kebab-case key.
    assert_eq!(smashing_post(&app, "/widgets/karma_points", &app.token, json!({"current": 4})).await.0, 204);
    let (status, text) = smashing_post(&app, "/widgets/nothing", &app.token, json!({"current": 5})).await;
    assert_eq!(status, 404);
    assert_eq!(serde_json::from_str::<Json>(&text).unwrap()["error"]["code"], "not_found");
    assert_eq!(app.count("events").await, 2);
}

#[tokio::test]
async fn smashing_board_names_the_only_board_searched() {
    let app = sample_board(&[("SMASHING_BOARD", "sample")]).await;
    app.create_board("other", &[("valuation", "number"), ("only-there", "number")]).await;
    assert_eq!(smashing_post(&app, "/widgets/valuation", &app.token, json!({"current": 1})).await.0, 204);
    let latest: Json = app.get("/dashboard/boards/sample/widgets/valuation").await.json().await.unwrap();
    assert_eq!(latest["latest"]["value"], json!({"value": 1}));
    assert_eq!(smashing_post(&app, "/widgets/only-there", &app.token, json!({"current": 1})).await.0, 404);
    let elsewhere = create_token(&app.db, "elsewhere", Role::Push, Some(&["other"])).await;
    assert_eq!(smashing_post(&app, "/widgets/valuation", &elsewhere, json!({"current": 1})).await.0, 403);
    assert_eq!(app.count("events").await, 1);
}

/// The bytes a Smashing job's `Net::HTTP::Post` sends, with Ruby's default headers and
/// `{...}.to_json` as the body.
#[tokio::test]
async fn the_request_a_smashing_job_sends_works_unchanged() {
    let app = sample_board(&[]).await;
    let mut stream = stream_of(&app, "sample").await;
    let body = format!(r#"{{"auth_token":"{}","current":42,"last":40}}"#, app.token);
    let request = format!(
        "POST /widgets/valuation HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Connection: close\r\nAccept-Encoding: gzip;q=1.0,deflate;q=0.6,identity;q=0.3\r\nAccept: */*\r\n\
         User-Agent: Ruby\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\r\n{body}",
        app.port,
        body.len()
    );
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, socket.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 204 No Content\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n"), "no body: {answer}");
    assert_eq!(next_value(&mut stream).await, ("valuation".into(), json!({"value": 42, "last": 40})));
}

#[tokio::test]
async fn the_page_shows_the_change_against_last_and_the_text_caption() {
    let app = sample_board(&[]).await;
    app.push("sample", "valuation", json!({"value": 10})).await;
    assert_eq!(smashing_post(&app, "/widgets/valuation", &app.token, json!({"current": 42, "last": 40})).await.0, 204);
    let body = json!({"text": "Hello", "moreinfo": "updated by cron"});
    assert_eq!(smashing_post(&app, "/widgets/welcome", &app.token, body).await.0, 204);
    let page = app.get("/boards/sample").await.text().await.unwrap();
    assert!(page.contains(r#"<span class="change-text">2 (+5.0%)</span>"#), "against last (40), not 10: {page}");
    assert!(page.contains(r#"<p class="more-info">updated by cron</p>"#), "{page}");
}

#[tokio::test]
async fn a_reload_reaches_the_boards_stream() {
    let app = sample_board(&[]).await;
    app.create_board("other", &[]).await;
    let mut stream = stream_of(&app, "sample").await;
    let (status, text) = smashing_post(&app, "/dashboards/sample", &app.token, json!({"event": "reload"})).await;
    assert_eq!((status, text.as_str()), (204, ""));
    let frame = loop {
        let frame = stream.next_event(WAIT).await.expect("the board frame arrives");
        if frame.event.as_deref() == Some("board") {
            break frame;
        }
    };
    assert_eq!(frame.json(), json!({"board": "sample", "action": "reload"}));

    let pusher = create_token(&app.db, "pusher", Role::Push, Some(&["sample"])).await;
    assert_eq!(smashing_post(&app, "/dashboards/sample", &pusher, json!({"event": "reload"})).await.0, 204);
    assert_eq!(smashing_post(&app, "/dashboards/other", &pusher, json!({"event": "reload"})).await.0, 403);
    let (status, text) = smashing_post(&app, "/dashboards/sample", &app.token, json!({"event": "explode"})).await;
    assert_eq!(status, 422, "{text}");
    assert_eq!(smashing_post(&app, "/dashboards/nowhere", &app.token, json!({"event": "reload"})).await.0, 404);
    assert_eq!(smashing_post(&app, "/dashboards/nowhere", "dash_wrong", json!({"event": "reload"})).await.0, 401);
}
