//! The widget kinds table, bar, image and clock: each value's limits at their boundary, a
//! refused value named to its field, and nothing stored for it.

use serde_json::{Value as Json, json};

use crate::common::TestApp;

/// A board `kinds` with one widget of each new kind; images may come from `img.example.com`.
async fn kinds_board() -> TestApp {
    let app = TestApp::spawn_with(&[("IMAGE_HOSTS", "img.example.com")]).await;
    app.create_board("kinds", &[("grid", "table"), ("bars", "bar"), ("pic", "image"), ("clock", "clock")]).await;
    app
}

/// Pushes `value` to `widget`; returns the status and the error's details (null when accepted).
async fn push(app: &TestApp, widget: &str, value: Json) -> (u16, Json) {
    let response = app.post(&format!("/dashboard/boards/kinds/widgets/{widget}/events"), value).await;
    let status = response.status().as_u16();
    let body: Json = response.json().await.unwrap_or(Json::Null);
    (status, body["error"]["details"].clone())
}

/// Every value is refused with a 422 naming `field`, and no event is stored for any of them.
async fn refused(app: &TestApp, widget: &str, cases: Vec<(Json, &str)>) {
    let before = app.count("events").await;
    for (value, field) in cases {
        let (status, details) = push(app, widget, value).await;
        assert_eq!(status, 422, "{widget} {field}: {details}");
        assert!(details[field].is_string(), "{widget}: {field} named in {details}");
    }
    assert_eq!(app.count("events").await, before, "{widget}: nothing stored");
}

fn table(rows: usize, columns: usize) -> Json {
    let row: Vec<Json> = (0..columns).map(|c| if c % 2 == 0 { json!(c) } else { json!(format!("c{c}")) }).collect();
    json!({"columns": (0..columns).map(|c| format!("h{c}")).collect::<Vec<_>>(), "rows": vec![row; rows]})
}

fn bars(n: usize) -> Json {
    json!({"bars": (0..n).map(|i| json!({"label": format!("b{i}"), "value": i})).collect::<Vec<_>>()})
}

fn data_url(bytes: usize) -> String {
    let prefix = "data:image/png;base64,";
    format!("{prefix}{}", "A".repeat(bytes - prefix.len()))
}

#[tokio::test]
async fn table_limits_are_100_rows_of_20_cells() {
    let app = kinds_board().await;
    assert_eq!(push(&app, "grid", table(100, 20)).await.0, 201);
    let mut bad_cell = table(5, 4);
    bad_cell["rows"][3][2] = json!(true);
    refused(
        &app,
        "grid",
        vec![
            (table(101, 1), "rows"),
            (table(2, 21), "rows[0]"),
            (bad_cell, "rows[3][2]"),
            (json!({"columns": vec!["h"; 21], "rows": []}), "columns"),
            (json!({"columns": []}), "rows"),
        ],
    )
    .await;
}

#[tokio::test]
async fn bar_limits_are_50_finite_bars() {
    let app = kinds_board().await;
    assert_eq!(push(&app, "bars", bars(50)).await.0, 201);
    // serde_json cannot write a non-finite number, so the overflowing literal is sent raw.
    let response = app
        .client
        .post(app.url("/dashboard/boards/kinds/widgets/bars/events"))
        .bearer_auth(&app.token)
        .header("Content-Type", "application/json")
        .body(r#"{"bars": [{"label": "a", "value": 1}, {"label": "b", "value": 1e999}]}"#)
        .send()
        .await
        .unwrap();
    // JSON has no NaN or infinity: the literal that overflows is malformed JSON, a 400.
    assert_eq!(response.status(), 400);
    refused(
        &app,
        "bars",
        vec![
            (bars(51), "bars"),
            (json!({"bars": [{"label": "a", "value": "7"}]}), "bars[0].value"),
            (json!({"bars": [{"label": "a", "value": 1}, {"label": "b", "value": "NaN"}]}), "bars[1].value"),
            (json!({"bars": [{"label": "a", "value": null}]}), "bars[0].value"),
            (json!({"bars": [{"label": "x".repeat(201), "value": 1}]}), "bars[0].label"),
        ],
    )
    .await;
}

#[tokio::test]
async fn image_urls_are_data_images_of_16_kib_or_from_image_hosts() {
    let app = kinds_board().await;
    assert_eq!(push(&app, "pic", json!({"url": data_url(16 * 1024), "alt": "a chart"})).await.0, 201);
    assert_eq!(push(&app, "pic", json!({"url": "https://img.example.com/a.png"})).await.0, 201);
    refused(
        &app,
        "pic",
        vec![
            (json!({"url": data_url(16 * 1024 + 1)}), "url"),
            (json!({"url": "javascript:alert(1)"}), "url"),
            (json!({"url": "data:text/html,<script>alert(1)</script>"}), "url"),
            (json!({"alt": "no picture"}), "url"),
        ],
    )
    .await;
    let (status, details) = push(&app, "pic", json!({"url": "https://evil.example.net/a.png"})).await;
    assert_eq!(status, 422);
    let message = details["url"].as_str().unwrap_or_default();
    assert!(message.contains("evil.example.net"), "names the host: {details}");
}

#[tokio::test]
async fn an_unlisted_image_host_is_refused_in_a_batch_too() {
    let app = kinds_board().await;
    let batch = json!({"events": [
        {"board": "kinds", "widget": "grid", "value": table(1, 1)},
        {"board": "kinds", "widget": "pic", "value": {"url": "http://other.example.org/x.png"}}
    ]});
    let response = app.post("/dashboard/events", batch).await;
    assert_eq!(response.status(), 422);
    let body: Json = response.json().await.unwrap();
    assert!(body["error"]["details"]["events[1].value.url"].is_string(), "{body}");
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn clock_timezones_must_be_iana_names() {
    let app = kinds_board().await;
    assert_eq!(push(&app, "clock", json!({})).await.0, 201);
    assert_eq!(push(&app, "clock", json!({"timezone": "Asia/Kolkata"})).await.0, 201);
    refused(&app, "clock", vec![(json!({"timezone": "Mars/Olympus_Mons"}), "timezone")]).await;
    let widget =
        json!({"key": "tokyo", "title": "Tokyo", "kind": "clock", "config": {"timezone": "Tokyo", "format": "13h"}});
    let response = app.post("/dashboard/boards/kinds/widgets", widget).await;
    assert_eq!(response.status(), 422);
    let details = response.json::<Json>().await.unwrap()["error"]["details"].clone();
    assert!(details["config.timezone"].is_string() && details["config.format"].is_string(), "{details}");
    assert_eq!(app.count("widgets").await, 4, "the refused widget is not stored");
}

#[tokio::test]
async fn the_number_sparkline_is_a_checked_config_key() {
    let app = kinds_board().await;
    let widget =
        |sparkline: Json| json!({"key": "n", "title": "N", "kind": "number", "config": {"sparkline": sparkline}});
    let response = app.post("/dashboard/boards/kinds/widgets", widget(json!("yes"))).await;
    assert_eq!(response.status(), 422);
    let details = response.json::<Json>().await.unwrap()["error"]["details"].clone();
    assert!(details["config.sparkline"].is_string(), "{details}");
    assert_eq!(app.post("/dashboard/boards/kinds/widgets", widget(json!(true))).await.status(), 201);
}
