//! `PUT /dashboard/boards/{board}/layout`: the layout editor's one save, all or nothing.
//! (Who may call it: the role matrix, `roles.rs`.)

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::common::sse::SseClient;
use crate::common::{TestApp, rand_suffix};
use dashboard::startup::Role;

const WAIT: Duration = Duration::from_secs(5);

fn place(key: &str, position: i64, width: i64, height: i64) -> Json {
    json!({"key": key, "position": position, "width": width, "height": height})
}

async fn put_layout(app: &TestApp, board: &str, widgets: Vec<Json>) -> reqwest::Response {
    app.send(Method::PUT, &format!("/dashboard/boards/{board}/layout"), Some(json!({ "widgets": widgets }))).await
}

/// Board `ops` with widgets `a`, `b` and `c` in that order; `c` has a unit, to see it kept.
async fn board_abc(app: &TestApp) {
    app.create_board("ops", &[("a", "number"), ("b", "text"), ("c", "number")]).await;
    let unit = json!({"config": {"unit": "ms"}});
    assert_eq!(app.send(Method::PATCH, "/dashboard/boards/ops/widgets/c", Some(unit)).await.status(), 200);
}

/// `(key, position, config)` of each widget of `ops`, in the board's order: all a layout may change.
async fn stored(app: &TestApp) -> Vec<(String, i32, Json)> {
    sqlx::query_as(
        "SELECT w.key, w.position, w.config FROM widgets w JOIN boards b ON b.id = w.board_id
         WHERE b.slug = 'ops' ORDER BY w.position, w.id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
    .into_iter()
    .map(|(key, position, config): (String, i32, sqlx::types::Json<Json>)| (key, position, config.0))
    .collect()
}

async fn audit_entries(app: &TestApp, action: &str) -> Vec<(String, Json)> {
    sqlx::query_as("SELECT target, details FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|(target, details): (String, sqlx::types::Json<Json>)| (target, details.0))
        .collect()
}

#[tokio::test]
async fn one_request_moves_and_resizes_the_widgets_and_leaves_one_audit_entry() {
    let app = TestApp::spawn().await;
    board_abc(&app).await;
    let response = put_layout(&app, "ops", vec![place("c", 0, 3, 2), place("a", 1, 1, 1), place("b", 2, 12, 6)]).await;
    assert_eq!(response.status(), 200);
    let body: Json = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"board": "ops", "widgets": [place("c", 0, 3, 2), place("a", 1, 1, 1), place("b", 2, 12, 6)]})
    );

    let board: Json = app.get("/dashboard/boards/ops").await.json().await.unwrap();
    let keys: Vec<&str> = board["widgets"].as_array().unwrap().iter().map(|w| w["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["c", "a", "b"]);
    assert_eq!(board["widgets"][0]["config"], json!({"unit": "ms", "width": 3, "height": 2}), "other keys are kept");

    let entries = audit_entries(&app, "layout.updated").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let (target, details) = &entries[0];
    assert_eq!(target, "ops");
    assert_eq!(
        details["widgets"]["c"],
        json!({"position": {"old": 2, "new": 0}, "width": {"old": 1, "new": 3}, "height": {"old": 1, "new": 2}})
    );
    assert_eq!(details["widgets"]["a"], json!({"position": {"old": 0, "new": 1}}));
    assert_eq!(audit_entries(&app, "widget.updated").await.len(), 1, "only the unit's PATCH: no entry per widget");
}

#[tokio::test]
async fn widgets_the_layout_does_not_name_keep_their_place_and_size() {
    let app = TestApp::spawn().await;
    board_abc(&app).await;
    let before = stored(&app).await;
    assert_eq!(put_layout(&app, "ops", vec![place("a", 9, 2, 1)]).await.status(), 200);
    let after = stored(&app).await;
    let keys: Vec<&str> = after.iter().map(|(key, ..)| key.as_str()).collect();
    assert_eq!(keys, ["b", "c", "a"]);
    assert_eq!(after[..2], before[1..], "b and c untouched");
    assert_eq!(after[2].2, json!({"width": 2, "height": 1}));
}

#[tokio::test]
async fn every_refusal_names_its_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    board_abc(&app).await;
    app.create_board("other", &[("x", "number")]).await;
    let ok = place("a", 0, 2, 2);
    let cases: Vec<(Json, &str)> = vec![
        (json!({"widgets": [ok, place("x", 1, 1, 1)]}), "widgets[1].key"),
        (json!({"widgets": [ok, place("Not A Key", 1, 1, 1)]}), "widgets[1].key"),
        (json!({"widgets": [ok, place("a", 1, 1, 1)]}), "widgets[1].key"),
        (json!({"widgets": [place("b", 0, 13, 1), ok]}), "widgets[0].width"),
        (json!({"widgets": [place("b", 0, 0, 1), ok]}), "widgets[0].width"),
        (json!({"widgets": [place("b", 0, 1, 7), ok]}), "widgets[0].height"),
        (json!({"widgets": [place("b", -1, 1, 1), ok]}), "widgets[0].position"),
        (json!({"widgets": [ok, {"key": "b", "position": 1, "height": 1}]}), "widgets[1].width"),
        (json!({"widgets": [ok, "b"]}), "widgets[1]"),
        (json!({"widgets": []}), "widgets"),
        (json!({"layout": [ok]}), "widgets"),
    ];
    let before = stored(&app).await;
    let response = put_layout(&app, "ops", vec![place("x", 0, 1, 1)]).await;
    let error: Json = response.json().await.unwrap();
    assert_eq!(error["error"]["details"]["widgets[0].key"], "board \"ops\" has no widget \"x\"");
    for (body, field) in cases {
        let response = app.send(Method::PUT, "/dashboard/boards/ops/layout", Some(body.clone())).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Json = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "validation_failed");
        assert!(error["error"]["details"][field].is_string(), "{body}: {field} not named in {error}");
        assert_eq!(stored(&app).await, before, "{body}: refused, yet something changed");
    }
    let response = put_layout(&app, "nope", vec![place("a", 0, 1, 1)]).await;
    assert_eq!(response.status(), 404);
    assert!(audit_entries(&app, "layout.updated").await.is_empty());
}

/// On the instance that saved and, through Redis, on another one.
#[tokio::test]
async fn open_streams_of_the_board_are_told_and_a_layout_that_changes_nothing_tells_nobody() {
    let prefix = format!("shared-{}", rand_suffix());
    let env = [("REDIS_CHANNEL_PREFIX", prefix.as_str())];
    let app = TestApp::spawn_with(&env).await;
    let other = TestApp::spawn_on(&app.database_url, Role::Web, &env).await;
    board_abc(&app).await;
    let mut streams = Vec::new();
    for instance in [&app, &other] {
        let mut stream = SseClient::open(instance.client.get(instance.url("/dashboard/stream?boards=ops"))).await;
        assert_eq!(stream.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
        streams.push(stream);
    }
    let layout = vec![place("b", 0, 2, 1), place("a", 1, 1, 1), place("c", 2, 1, 1)];
    assert_eq!(put_layout(&app, "ops", layout.clone()).await.status(), 200);
    for stream in &mut streams {
        let frame = stream.next_event(WAIT).await.expect("a board frame");
        assert_eq!(frame.event.as_deref(), Some("board"));
        assert_eq!(frame.json(), json!({"board": "ops", "action": "layout_updated"}));
    }

    assert_eq!(put_layout(&app, "ops", layout).await.status(), 200);
    app.push("ops", "a", json!({"value": 1})).await;
    for stream in &mut streams {
        let next = stream.next_event(WAIT).await.expect("the pushed value");
        assert_eq!(next.event.as_deref(), Some("widget"), "the same layout again is no change: {}", next.data);
    }
    assert_eq!(audit_entries(&app, "layout.updated").await.len(), 1);
}
