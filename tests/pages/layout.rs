//! The layout editor on a board's management page: the board's grid drawn server-side, and its
//! save, which runs the API's checks behind the session's CSRF token. (Dragging and the keys:
//! `browser::the_layout_editor_…`.)

use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

use super::ManageSession;
use crate::common::{TestApp, create_token};
use dashboard::domain::Role;

/// The keys of board `ops` in its order.
async fn order(app: &TestApp) -> Vec<String> {
    let board: Json = app.get("/dashboard/boards/ops").await.json().await.unwrap();
    board["widgets"].as_array().unwrap().iter().map(|w| w["key"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_board_page_in_manage_draws_the_boards_grid_and_saves_its_layout_through_the_api_checks() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("a", "number"), ("b", "text")]).await;
    let wide = json!({"config": {"width": 6, "height": 2}});
    assert_eq!(app.send(Method::PATCH, "/dashboard/boards/ops/widgets/b", Some(wide)).await.status(), 200);
    let mut session = ManageSession::sign_in(&app).await;
    let (status, page) = session.get("/manage/boards/ops").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"class="grid cols-4 layout-grid""#), "the board's 4 columns");
    assert!(
        page.contains(r#"layout-tile kind-text w-4 h-2" role="listitem" data-key="b" data-width="6" data-height="2""#),
        "b spans the board's 4 columns, as on the board, and keeps its stored width: {page}"
    );

    let layout = json!({"widgets": [{"key": "b", "position": 0, "width": 2, "height": 1},
                                    {"key": "a", "position": 1, "width": 1, "height": 3}]})
    .to_string();
    let response = session.post_raw("/manage/boards/ops/layout", &[("layout", &layout)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let response = session.post("/manage/boards/ops/layout", &[("layout", "{not json")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let too_wide = layout.replace("\"width\":2", "\"width\":13");
    let response = session.post("/manage/boards/ops/layout", &[("layout", &too_wide)]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Json = response.json().await.unwrap();
    assert!(error["error"]["details"]["widgets[0].width"].is_string(), "{error}");
    assert_eq!(order(&app).await, ["a", "b"], "nothing changed");

    let response = session.post("/manage/boards/ops/layout", &[("layout", &layout)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let saved: Json = response.json().await.unwrap();
    assert_eq!(saved["widgets"][1], json!({"key": "a", "position": 1, "width": 1, "height": 3}));
    assert_eq!(order(&app).await, ["b", "a"]);
    let actor: String = sqlx::query_scalar("SELECT actor FROM audit_log WHERE action = 'layout.updated'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(actor.starts_with("test-"), "the session's token is the actor: {actor}");
}

#[tokio::test]
async fn an_editor_limited_to_another_board_finds_no_layout_to_save() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("a", "number")]).await;
    app.create_board("other", &[]).await;
    let limited = create_token(&app.db, "limited", Role::Editor, Some(&["other"])).await;
    let mut session = ManageSession::sign_in_with(&app, &limited).await;
    let layout = json!({"widgets": [{"key": "a", "position": 5, "width": 2, "height": 1}]}).to_string();
    let response = session.post("/manage/boards/ops/layout", &[("layout", &layout)]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let config: Json = sqlx::query_scalar("SELECT config FROM widgets").fetch_one(&app.db).await.unwrap();
    assert_eq!(config, json!({}));
}

#[tokio::test]
async fn a_board_of_many_widgets_saves_its_layout_from_the_page_and_an_empty_board_has_no_editor() {
    let app = TestApp::spawn().await;
    let keys: Vec<String> = (0..200).map(|i| format!("widget-with-a-rather-long-key-number-{i:03}")).collect();
    let widgets: Vec<(&str, &str)> = keys.iter().map(|key| (key.as_str(), "number")).collect();
    app.create_board("ops", &widgets).await;
    app.create_board("empty", &[]).await;
    let mut session = ManageSession::sign_in(&app).await;

    let (_, empty) = session.get("/manage/boards/empty").await;
    assert!(!empty.contains("layout_editor.js"), "no tiles, no editor script to fail on them");
    let (_, page) = session.get("/manage/boards/ops").await;
    assert!(page.contains("layout_editor.js"));

    // Reversed: each widget named with its place and size, past the 16 KiB of a form even before
    // it is URL-encoded.
    let placements: Vec<Json> = keys
        .iter()
        .rev()
        .enumerate()
        .map(|(position, key)| json!({"key": key, "position": position, "width": 2, "height": 1}))
        .collect();
    let layout = json!({ "widgets": placements }).to_string();
    assert!(layout.len() > 16 * 1024, "{} bytes", layout.len());
    let response = session.post("/manage/boards/ops/layout", &[("layout", &layout)]).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
    assert_eq!(order(&app).await.first(), keys.last());
}
