use serde_json::{Value as Json, json};

use crate::common::heavy::{push_large, stalled_get};
use crate::common::{BOUND_VALUES, TestApp};

async fn app_with_every_kind() -> TestApp {
    let app = TestApp::spawn().await;
    let kinds = [("n", "number"), ("g", "gauge"), ("l", "line"), ("t", "text"), ("li", "list"), ("s", "status")];
    app.create_board("ops", &kinds).await;
    app
}

async fn push_status(app: &TestApp, widget: &str, value: Json) -> (u16, Json) {
    let response = app.post(&format!("/dashboard/boards/ops/widgets/{widget}/events"), value).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Json::Null))
}

#[tokio::test]
async fn a_push_returns_the_event() {
    let app = app_with_every_kind().await;
    let (status, event) = push_status(&app, "g", json!({"value": 73.5, "note": "kept"})).await;
    assert_eq!(status, 201);
    assert_eq!(event["board"], "ops");
    assert_eq!(event["widget"], "g");
    assert_eq!(event["kind"], "gauge");
    assert_eq!(event["value"], json!({"value": 73.5, "note": "kept"}));
    assert!(event["id"].as_i64().unwrap() > 0);
    assert!(event["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn per_kind_validation_boundaries() {
    let app = app_with_every_kind().await;
    let items =
        |n: usize| json!({"items": (0..n).map(|i| json!({"label": format!("l{i}"), "value": i})).collect::<Vec<_>>()});
    let cases: Vec<(&str, Json, u16, &str)> = vec![
        ("t", json!({"text": "x".repeat(10_000)}), 201, ""),
        ("t", json!({"text": "x".repeat(10_001)}), 422, "text"),
        ("t", json!({"text": 5}), 422, "text"),
        ("t", json!({}), 422, "text"),
        ("li", items(100), 201, ""),
        ("li", items(101), 422, "items"),
        ("li", json!({"items": [{"label": "a"}]}), 422, "items[0].value"),
        ("li", json!({"items": [{"label": ["a"], "value": 1}]}), 422, "items[0].label"),
        ("li", json!({"items": [{"label": "a", "value": 1}, {"label": "b", "value": false}]}), 422, "items[1].value"),
        ("n", json!({"value": "12"}), 422, "value"),
        ("n", json!({"value": null}), 422, "value"),
        ("g", json!({}), 422, "value"),
        ("l", json!({"value": 1, "at": "not a time"}), 422, "at"),
        ("l", json!({"value": 1, "at": "2026-11-26T20:00:00Z"}), 201, ""),
        ("s", json!({"status": "fine"}), 422, "status"),
        ("s", json!({"status": "critical", "message": "m".repeat(1001)}), 422, "message"),
        ("s", json!({"status": "unknown"}), 201, ""),
        ("n", json!([1, 2]), 422, "value"),
    ];
    for (widget, value, expected, field) in cases {
        let (status, body) = push_status(&app, widget, value.clone()).await;
        assert_eq!(status, expected, "{widget} {value}: {body}");
        if expected == 422 {
            assert!(body["error"]["details"][field].is_string(), "{field} not named: {body}");
        }
    }
    assert_eq!(app.count("events").await, 4);
}

#[tokio::test]
async fn non_finite_numbers_are_refused() {
    let app = app_with_every_kind().await;
    for raw in [r#"{"value": 1e999}"#, r#"{"value": NaN}"#, r#"{"value": Infinity}"#] {
        let response = app
            .client
            .post(app.url("/dashboard/boards/ops/widgets/n/events"))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert!(matches!(response.status().as_u16(), 400 | 422), "{raw}: {}", response.status());
    }
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn history_is_ascending_after_an_id_and_clamped() {
    let app = app_with_every_kind().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.push("ops", "l", json!({"value": i})).await);
    }
    let page: Json = app
        .get(&format!("/dashboard/boards/ops/widgets/l/events?after={}&limit=2", ids[1]))
        .await
        .json()
        .await
        .unwrap();
    let got: Vec<i64> = page["events"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(got, ids[2..4]);
    let all: Json = app.get("/dashboard/boards/ops/widgets/l/events?limit=100000").await.json().await.unwrap();
    assert_eq!(all["events"].as_array().unwrap().len(), 5);
    let response = app.get("/dashboard/boards/ops/widgets/l/events?after=abc").await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<Json>().await.unwrap()["error"]["code"], "bad_request");
    assert_eq!(app.get("/dashboard/boards/ops/widgets/zz/events").await.status(), 404);
}

fn ids_of(page: &Json) -> Vec<i64> {
    page["events"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn history_pages_are_bounded_in_bytes_and_say_where_to_go_on() {
    let app = TestApp::spawn_with(&[("HISTORY_MAX_BYTES", "50000")]).await;
    app.create_board("ops", &[("t", "text")]).await;
    let ids = push_large(&app, "ops", 10).await;
    let (mut after, mut received, mut pages) = (0, Vec::<i64>::new(), 0);
    loop {
        let page: Json = app
            .get(&format!("/dashboard/boards/ops/widgets/t/events?after={after}&limit=1000"))
            .await
            .json()
            .await
            .unwrap();
        let got = ids_of(&page);
        // Values of 16 KiB: the page stops at the first one that starts past 50,000 bytes.
        assert!(!got.is_empty() && got.len() <= 4, "{} events in one page", got.len());
        received.extend_from_slice(&got);
        pages += 1;
        match page["next_after"].as_i64() {
            Some(next) => {
                assert_eq!(next, *got.last().unwrap());
                after = next;
            }
            None => break,
        }
    }
    assert_eq!(received, ids, "every event once, in order");
    assert!(pages >= 3);
    // A page full by count says so too; the end of history does not.
    let page: Json = app.get("/dashboard/boards/ops/widgets/t/events?limit=2").await.json().await.unwrap();
    assert_eq!(page["next_after"], ids[1]);
    let end: Json =
        app.get(&format!("/dashboard/boards/ops/widgets/t/events?after={}", ids[8])).await.json().await.unwrap();
    assert_eq!(ids_of(&end), [ids[9]]);
    assert!(end.get("next_after").is_none(), "{end}");
}

#[tokio::test]
async fn history_reads_past_the_cap_get_503() {
    // Responses of over 6 MB: more than the kernel's send buffer (at most 4 MiB) takes.
    let app = TestApp::spawn_with(&[("HISTORY_MAX_READS", "1"), ("HISTORY_MAX_BYTES", "8000000")]).await;
    app.create_board("ops", &[("t", "text")]).await;
    push_large(&app, "ops", 400).await;
    // A reader that takes its first bytes and no more holds its read open.
    let path = "/dashboard/boards/ops/widgets/t/events?limit=1000";
    let (status, stalled) = stalled_get(app.port, path, &[]).await;
    assert_eq!(status, 200);
    let refused = app.get(path).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(refused.json::<Json>().await.unwrap()["error"]["code"], "service_unavailable");

    drop(stalled);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.get(path).await.status() != 200 {
        assert!(tokio::time::Instant::now() < deadline, "the history permit never came back");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_batch_is_stored_in_order() {
    let app = app_with_every_kind().await;
    let events: Vec<Json> = (0..1000).map(|i| json!({"board": "ops", "widget": "l", "value": {"value": i}})).collect();
    let response = app.post("/dashboard/events", json!({ "events": events })).await;
    assert_eq!(response.status(), 201);
    let ids: Vec<i64> =
        response.json::<Json>().await.unwrap()["ids"].as_array().unwrap().iter().map(|i| i.as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 1000);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let stored: Vec<(i64, f64)> = sqlx::query_as("SELECT id, (value->>'value')::float8 FROM events ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(stored.iter().enumerate().all(|(i, (id, v))| *id == ids[i] && *v == i as f64));
}

#[tokio::test]
async fn one_bad_item_fails_the_whole_batch() {
    let app = app_with_every_kind().await;
    let cases = [
        (json!({"board": "ops", "widget": "nope", "value": {"value": 1}}), "events[1]"),
        (json!({"board": "zz", "widget": "n", "value": {"value": 1}}), "events[1]"),
        (json!({"board": "ops", "widget": "t", "value": {"text": 3}}), "events[1].value.text"),
        (json!({"widget": "n", "value": {}}), "events[1]"),
        // Names no slug can have (PostgreSQL cannot even compare a NUL) name no widget either.
        (json!({"board": "ops\u{0}", "widget": "n", "value": {"value": 1}}), "events[1]"),
        (json!({"board": "ops", "widget": "N ' OR 1=1", "value": {"value": 1}}), "events[1]"),
    ];
    for (bad, field) in cases {
        let good = json!({"board": "ops", "widget": "n", "value": {"value": 1}});
        let response = app.post("/dashboard/events", json!({"events": [good.clone(), bad, good]})).await;
        assert_eq!(response.status(), 422);
        let body: Json = response.json().await.unwrap();
        assert!(body["error"]["details"][field].is_string(), "{field}: {body}");
    }
    for empty in [json!({"events": []}), json!({"nope": 1}), json!({"events": vec![json!({}); 1001]})] {
        assert_eq!(app.post("/dashboard/events", empty).await.status(), 422);
    }
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn body_limits_are_413() {
    let app = app_with_every_kind().await;
    let big = json!({"text": "x".repeat(70 * 1024)});
    assert_eq!(app.post("/dashboard/boards/ops/widgets/t/events", big).await.status(), 413);
    let batch = json!({"events": [{"board": "ops", "widget": "t", "value": {"text": "x".repeat(1100 * 1024)}}]});
    assert_eq!(app.post("/dashboard/events", batch).await.status(), 413);
    // A 200 KiB batch is fine for the batch route even though it is over the single-push limit.
    let events: Vec<Json> =
        (0..20).map(|_| json!({"board": "ops", "widget": "t", "value": {"text": "y".repeat(10_000)}})).collect();
    assert_eq!(app.post("/dashboard/events", json!({ "events": events })).await.status(), 201);
    // A value over 16 KiB is a 422, not a 413: the body is within 64 KiB.
    let fat = json!({"text": "a", "pad": "z".repeat(20_000)});
    assert_eq!(app.post("/dashboard/boards/ops/widgets/t/events", fat).await.status(), 422);
}

/// Pushes look their widget up in a per-process cache; a deleted or renamed widget must not
/// keep taking values.
#[tokio::test]
async fn pushes_follow_widget_changes_at_once() {
    let app = app_with_every_kind().await;
    app.push("ops", "n", json!({"value": 1})).await; // cached now
    app.send(reqwest::Method::PATCH, "/dashboard/boards/ops/widgets/n", Some(json!({"key": "m"}))).await;
    assert_eq!(push_status(&app, "n", json!({"value": 2})).await.0, 404, "the old key is gone");
    assert_eq!(push_status(&app, "m", json!({"value": 3})).await.0, 201);
    app.send(reqwest::Method::DELETE, "/dashboard/boards/ops/widgets/m", None).await;
    assert_eq!(push_status(&app, "m", json!({"value": 4})).await.0, 404);
    assert_eq!(app.count("events").await, 0, "deleting the widget removed its events");
}

/// The `value.value` of an event, of a widget's `latest`, as a double.
fn number_of(event: &Json) -> Option<f64> {
    event["value"]["value"].as_f64()
}

/// Numbers at the bounds, and a huge one an older version stored straight in the database, read
/// back exactly as sent through the widget, the board and the history.
#[tokio::test]
async fn numbers_at_the_bounds_read_back_equal_everywhere() {
    let app = app_with_every_kind().await;
    let mut sent = Vec::new();
    for value in BOUND_VALUES {
        let list = json!({"items": [{"label": "a", "value": value}], "extra": {"deep": [value]}});
        let (status, body) = push_status(&app, "li", list.clone()).await;
        assert_eq!(status, 201, "{body}");
        let widget: Json = app.get("/dashboard/boards/ops/widgets/li").await.json().await.unwrap();
        let latest = &widget["latest"]["value"];
        assert_eq!(latest["items"][0]["value"].as_f64(), Some(value), "list item: {latest}");
        assert_eq!(latest["extra"]["deep"][0].as_f64(), Some(value), "extra field: {latest}");

        sent.push((app.push("ops", "l", json!({"value": value})).await, value));
        let widget: Json = app.get("/dashboard/boards/ops/widgets/l").await.json().await.unwrap();
        assert_eq!(number_of(&widget["latest"]), Some(value), "widget JSON: {widget}");
        let board: Json = app.get("/dashboard/boards/ops").await.json().await.unwrap();
        let line = board["widgets"].as_array().unwrap().iter().find(|w| w["key"] == "l").unwrap();
        assert_eq!(number_of(&line["latest"]), Some(value), "board JSON: {line}");
    }
    sent.push((app.insert_raw_event("ops", "l", r#"{"value": 1.7976931348623157e308}"#).await, f64::MAX));
    let response = app.get("/dashboard/boards/ops/widgets/l/events").await;
    assert_eq!(response.status(), 200);
    let history: Json = response.json().await.unwrap();
    let read: Vec<(i64, f64)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_i64().unwrap(), number_of(e).unwrap()))
        .collect();
    assert_eq!(read, sent);
    let widget: Json = app.get("/dashboard/boards/ops/widgets/l").await.json().await.unwrap();
    assert_eq!(number_of(&widget["latest"]), Some(f64::MAX));
}
