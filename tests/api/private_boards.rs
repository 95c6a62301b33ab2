//! Private boards: to whoever may not see one it does not exist (same 404 as an unknown
//! board), and nothing about it shows anywhere; with a token everything works as before.

use reqwest::StatusCode;
use serde_json::{Value as Json, json};

use crate::common::TestApp;

const SLUG: &str = "vault";
const TITLE: &str = "Quarterly Vault Figures";
const KEY: &str = "hidden-gauge";
/// A value that appears nowhere else in any response.
const VALUE: f64 = 987654.125;

/// A public board `lobby` with one value, then a private board with a widget and a value.
async fn public_and_private(app: &TestApp) {
    app.create_board("lobby", &[("n", "number")]).await;
    app.push("lobby", "n", json!({"value": 1})).await;
    let body = json!({"slug": SLUG, "title": TITLE, "visibility": "private"});
    let response = app.post("/dashboard/boards", body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Json>().await.unwrap()["visibility"], "private");
    let widget = json!({"key": KEY, "title": "Secret gauge title", "kind": "gauge"});
    assert_eq!(app.post(&format!("/dashboard/boards/{SLUG}/widgets"), widget).await.status(), 201);
    app.push(SLUG, KEY, json!({"value": VALUE})).await;
}

fn assert_no_trace(body: &str, what: &str) {
    for secret in [SLUG, TITLE, KEY, "Secret gauge title", &VALUE.to_string()] {
        assert!(!body.contains(secret), "{what} shows {secret:?}: {body}");
    }
}

async fn anonymous(app: &TestApp, path: &str, accept: &str) -> (StatusCode, String) {
    let response = app.client.get(app.url(path)).header("Accept", accept).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_private_board_is_an_unknown_board_to_an_anonymous_caller() {
    let app = TestApp::spawn().await;
    public_and_private(&app).await;

    for (path, accept) in [("/dashboard", "application/json"), ("/", "text/html"), ("/metrics", "text/plain")] {
        let (status, body) = anonymous(&app, path, accept).await;
        assert_eq!(status, 200, "{path}");
        assert!(path == "/metrics" || body.contains("lobby"), "{path} lists the public board: {body}");
        assert_no_trace(&body, path);
    }
    // Every address of the private board answers exactly as the same address of a board that
    // never existed (the name the client sent is echoed in both).
    let addresses = [
        ("/dashboard/boards/{b}", "application/json"),
        ("/dashboard/boards/{b}/widgets/{w}", "application/json"),
        ("/dashboard/boards/{b}/widgets/{w}/events", "application/json"),
        ("/dashboard/stream?boards=lobby,{b}", "text/event-stream"),
        ("/boards/{b}", "text/html"),
    ];
    for (address, accept) in addresses {
        let private = address.replace("{b}", SLUG).replace("{w}", KEY);
        let unknown = address.replace("{b}", "never-was").replace("{w}", KEY);
        let (status, body) = anonymous(&app, &private, accept).await;
        let (unknown_status, unknown_body) = anonymous(&app, &unknown, accept).await;
        assert_eq!(status, 404, "{private}: {body}");
        assert_eq!((status, body.replace(SLUG, "never-was")), (unknown_status, unknown_body), "{private}");
        assert_no_trace(&body.replace(SLUG, "").replace(KEY, ""), &private);
    }
    let (_, page) = anonymous(&app, &format!("/boards/{SLUG}"), "text/html").await;
    assert!(page.contains("href=\"/manage/sign-in\""), "the 404 page offers to sign in: {page}");
    let (_, debug) = anonymous(&app, "/dashboard/debug", "application/json").await;
    assert_no_trace(&debug, "/dashboard/debug");
}

#[tokio::test]
async fn with_a_token_a_private_board_works_as_any_other() {
    let app = TestApp::spawn().await;
    public_and_private(&app).await;
    let app = &app;
    let get = |path: String| async move {
        let response = app.send(reqwest::Method::GET, &path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json::<Json>().await.unwrap()
    };
    let list = get("/dashboard".into()).await;
    let boards: Vec<(&str, &str)> = list["boards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["slug"].as_str().unwrap(), b["visibility"].as_str().unwrap()))
        .collect();
    assert_eq!(boards, [(SLUG, "private"), ("lobby", "public")], "ordered by title");
    let board = get(format!("/dashboard/boards/{SLUG}")).await;
    assert_eq!((board["title"].as_str(), board["visibility"].as_str()), (Some(TITLE), Some("private")));
    assert_eq!(board["widgets"][0]["latest"]["value"]["value"], VALUE);
    assert_eq!(get(format!("/dashboard/boards/{SLUG}/widgets/{KEY}")).await["latest"]["value"]["value"], VALUE);
    let history = get(format!("/dashboard/boards/{SLUG}/widgets/{KEY}/events")).await;
    assert_eq!(history["events"][0]["value"]["value"], VALUE);
}

#[tokio::test]
async fn the_anonymous_snapshot_of_a_public_board_names_no_private_event_id() {
    let app = TestApp::spawn().await;
    public_and_private(&app).await;
    let public_id = app.push("lobby", "n", json!({"value": 2})).await;
    let private_id = app.push(SLUG, KEY, json!({"value": 3})).await;
    let (_, body) = anonymous(&app, "/dashboard/boards/lobby", "application/json").await;
    let snapshot: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(snapshot["last_event_id"], public_id, "not the private board's newer {private_id}");
    let with_token = app.send(reqwest::Method::GET, "/dashboard/boards/lobby", None).await;
    assert_eq!(with_token.json::<Json>().await.unwrap()["last_event_id"], private_id);
}

#[tokio::test]
async fn visibility_defaults_to_the_setting_and_is_validated() {
    let app = TestApp::spawn().await;
    let created = app.post("/dashboard/boards", json!({"title": "Open"})).await;
    assert_eq!(created.json::<Json>().await.unwrap()["visibility"], "public", "public outside production");
    for body in [json!({"title": "Bad", "visibility": "hidden"}), json!({"title": "Bad", "visibility": 1})] {
        let response = app.post("/dashboard/boards", body).await;
        assert_eq!(response.status(), 422);
        assert!(response.json::<Json>().await.unwrap()["error"]["details"]["visibility"].is_string());
    }
    let patch = app.send(reqwest::Method::PATCH, "/dashboard/boards/open", Some(json!({"visibility": "secret"}))).await;
    assert_eq!(patch.status(), 422);
    assert_eq!(app.count("boards").await, 1, "nothing half-written");

    let private_by_default = TestApp::spawn_with(&[("DEFAULT_BOARD_VISIBILITY", "private")]).await;
    let created = private_by_default.post("/dashboard/boards", json!({"title": "Closed"})).await;
    assert_eq!(created.json::<Json>().await.unwrap()["visibility"], "private");
    assert_eq!(anonymous(&private_by_default, "/dashboard/boards/closed", "application/json").await.0, 404);
    let public = json!({"title": "Shown", "visibility": "public"});
    assert_eq!(private_by_default.post("/dashboard/boards", public).await.status(), 201);
    assert_eq!(anonymous(&private_by_default, "/dashboard/boards/shown", "application/json").await.0, 200);
}

#[tokio::test]
async fn patch_switches_visibility_both_ways() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let patch = |visibility: &'static str| {
        app.send(reqwest::Method::PATCH, "/dashboard/boards/ops", Some(json!({"visibility": visibility})))
    };
    assert_eq!(patch("private").await.json::<Json>().await.unwrap()["visibility"], "private");
    assert_eq!(anonymous(&app, "/dashboard/boards/ops", "application/json").await.0, 404);
    assert_eq!(patch("public").await.status(), 200);
    assert_eq!(anonymous(&app, "/dashboard/boards/ops", "application/json").await.0, 200);
}
