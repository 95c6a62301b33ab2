//! The widget kinds table, bar, image and clock and the number's sparkline, as the server
//! renders them (what a browser without JavaScript shows).

use reqwest::header;
use serde_json::json;

use super::html;
use crate::common::TestApp;

const EVIL: &str = "<script>alert(1)</script>";
const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";

async fn kinds_board(app: &TestApp) {
    app.post("/dashboard/boards", json!({"slug": "kinds", "title": "Kinds"})).await;
    let widgets = [
        json!({"key": "grid", "title": "Hosts", "kind": "table", "config": {"decimals": 1}}),
        json!({"key": "bars", "title": "Regions", "kind": "bar", "config": {"max": 200, "thresholds": [{"value": 150, "color": "#d7263d"}]}}),
        json!({"key": "side", "title": "Sideways", "kind": "bar", "config": {"horizontal": true}}),
        json!({"key": "pic", "title": "Picture", "kind": "image", "config": {"fit": "cover"}}),
        json!({"key": "clock", "title": "Tokyo", "kind": "clock", "config": {"timezone": "Asia/Tokyo", "seconds": true}}),
        json!({"key": "signups", "title": "Sign-ups", "kind": "number", "config": {"sparkline": true, "max_points": 3}}),
    ];
    for widget in widgets {
        assert_eq!(app.post("/dashboard/boards/kinds/widgets", widget).await.status(), 201);
    }
}

#[tokio::test]
async fn every_new_kind_renders_its_value_server_side() {
    let app = TestApp::spawn_with(&[("IMAGE_HOSTS", "img.example.com")]).await;
    kinds_board(&app).await;
    app.push("kinds", "grid", json!({"columns": ["Host", "Load"], "rows": [["web-1", 0.5], ["db-1", 12]]})).await;
    app.push("kinds", "bars", json!({"bars": [{"label": "EU", "value": 50}, {"label": "US", "value": 180}]})).await;
    app.push("kinds", "side", json!({"bars": [{"label": "a", "value": 1}, {"label": "b", "value": 4}]})).await;
    app.push("kinds", "pic", json!({"url": "https://img.example.com/map.png", "alt": "The network"})).await;
    for value in [5, 7, 6, 9] {
        app.push("kinds", "signups", json!({"value": value})).await;
    }
    let before = tokyo_time();
    let (status, headers, body) = html(&app, "/boards/kinds").await;
    assert_eq!(status, 200);
    // table: headings, cells, numbers with the configured decimals, aligned right
    assert!(body.contains("<th scope=\"col\">Host</th><th scope=\"col\" class=\"num\">Load</th>"), "table head");
    assert!(body.contains("<td>web-1</td><td class=\"num\">0.5</td>"), "table row");
    assert!(body.contains("<td class=\"num\">12.0</td>"), "decimals");
    // bar: 50 of 0–200 is a quarter of the track; 180 takes the threshold's colour
    assert!(body.contains("y=\"75.00\" width=\"100.00\" height=\"25.00\"/>"), "vertical bar");
    assert!(body.contains("height=\"90.00\" fill=\"#d7263d\""), "bar over the threshold");
    assert!(
        body.contains("class=\"bars horizontal\"") && body.contains("width=\"25.00\" height=\"100.00\""),
        "horizontal"
    );
    // image: the picture and its alt text, fitted as configured
    assert!(
        body.contains(
            "<img class=\"image-value fit-cover\" src=\"https://img.example.com/map.png\" alt=\"The network\">"
        )
    );
    // clock: the time in its timezone at render, which the script keeps ticking
    assert!(body.contains("data-timezone=\"Asia/Tokyo\">"), "clock zone");
    assert!(shows_time(&body, &before), "the clock shows Tokyo's time, {before}");
    // number sparkline: the last max_points values, oldest first
    assert!(body.contains("data-values=\"[7.0,6.0,9.0]\""), "sparkline values");
    assert!(body.contains("<polyline points=\"0.0,65.0 150.0,95.0 300.0,5.0\"/>"), "sparkline points");
    // the image host is allowed by the page's policy, and no other
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("img-src 'self' data: img.example.com;"), "{policy}");
}

#[tokio::test]
async fn user_text_in_tables_bars_and_alt_texts_is_escaped() {
    let app = TestApp::spawn().await;
    kinds_board(&app).await;
    app.push("kinds", "grid", json!({"columns": [EVIL], "rows": [[EVIL, 1]]})).await;
    app.push("kinds", "bars", json!({"bars": [{"label": EVIL, "value": 3}]})).await;
    let quote = "\" onerror=\"alert(2)";
    app.push("kinds", "pic", json!({"url": "data:image/png;base64,AAAA", "alt": format!("{EVIL}{quote}")})).await;
    let (_, _, body) = html(&app, "/boards/kinds").await;
    assert!(!body.contains(EVIL) && !body.contains(quote), "raw user text in the page");
    assert_eq!(body.matches(ESCAPED).count(), 4, "heading, cell, bar label and alt text, escaped");
    assert!(body.contains("&#34; onerror=&#34;alert(2)"), "the quote cannot end the alt attribute");
}

#[tokio::test]
async fn a_new_kind_without_a_value_renders_empty_and_a_clock_still_shows_the_time() {
    let app = TestApp::spawn().await;
    kinds_board(&app).await;
    let before = tokyo_time();
    let (status, _, body) = html(&app, "/boards/kinds").await;
    assert_eq!(status, 200);
    assert_eq!(body.matches("is-empty").count(), 6, "every card is marked empty");
    assert!(body.contains("<img class=\"image-value fit-cover\" src=\"\" alt=\"\" hidden>"), "no broken image");
    assert!(shows_time(&body, &before), "the clock needs no value to show {before}");
}

fn tokyo_time() -> String {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo).format("%H:%M").to_string()
}

/// Whether the page's clock shows `before` or the minute after it (the page may render just
/// after the minute turned).
fn shows_time(body: &str, before: &str) -> bool {
    let after = tokyo_time();
    [before, after.as_str()].iter().any(|hm| body.contains(&format!("data-timezone=\"Asia/Tokyo\">{hm}:")))
}

#[tokio::test]
async fn the_widget_form_sets_and_shows_the_new_kinds_config() {
    let app = TestApp::spawn().await;
    app.post("/dashboard/boards", json!({"slug": "x", "title": "X"})).await;
    let mut session = super::ManageSession::sign_in(&app).await;
    let refused = [("key", "tokyo"), ("title", "Tokyo"), ("kind", "clock"), ("timezone", "Tokyo/Nowhere")];
    let response = session.post("/manage/boards/x/new-widget", &refused).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("must be an IANA timezone name"), "the field's error is shown");
    assert!(page.contains("value=\"Tokyo/Nowhere\""), "what was typed is kept");
    assert_eq!(app.count("widgets").await, 0);

    let clock = [
        ("key", "tokyo"),
        ("title", "Tokyo"),
        ("kind", "clock"),
        ("timezone", "Asia/Tokyo"),
        ("format", "12h"),
        ("seconds", "on"),
    ];
    assert_eq!(session.post("/manage/boards/x/new-widget", &clock).await.status(), 303);
    let widget: serde_json::Value = app.get("/dashboard/boards/x/widgets/tokyo").await.json().await.unwrap();
    assert_eq!(widget["config"], json!({"timezone": "Asia/Tokyo", "format": "12h", "seconds": true}));

    let (status, form) = session.get("/manage/boards/x/widgets/tokyo").await;
    assert_eq!(status, 200);
    assert!(form.contains("value=\"Asia/Tokyo\""), "timezone shown");
    assert!(form.contains("<option value=\"12h\" selected>"), "format shown");
    assert!(form.contains("name=\"seconds\" checked"), "seconds ticked");
    // Unticking a box on edit removes its key.
    let edit = [("key", "tokyo"), ("title", "Tokyo"), ("timezone", "Asia/Tokyo")];
    assert_eq!(session.post("/manage/boards/x/widgets/tokyo", &edit).await.status(), 303);
    let widget: serde_json::Value = app.get("/dashboard/boards/x/widgets/tokyo").await.json().await.unwrap();
    assert_eq!(widget["config"], json!({"timezone": "Asia/Tokyo"}));
}
