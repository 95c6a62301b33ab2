//! Boards as code over HTTP: `GET /dashboard/export` and `POST /dashboard/import`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::common::sse::SseClient;
use crate::common::{TestApp, create_token};
use dashboard::domain::Role;

const WAIT: Duration = Duration::from_secs(5);

/// Two boards, one private with widgets of three kinds; no pull-source headers (their values
/// are never exported, so a file with them cannot come back byte for byte).
pub fn sample_file() -> Json {
    json!({"version": 1, "boards": [
        {"slug": "ops", "title": "Ops", "description": "The floor", "columns": 6, "visibility": "private", "widgets": [
            {"key": "cpu", "title": "CPU", "kind": "gauge", "config": {"min": 0, "max": 100, "unit": "%"}, "position": 0},
            {"key": "health", "title": "Health", "kind": "status", "config": {}, "position": 1},
            {"key": "queue", "title": "Queue", "kind": "number", "position": 2,
             "config": {"source": {"url": "http://127.0.0.1:9/queue", "interval_s": 60, "pointer": "/depth"}}}
        ]},
        {"slug": "web", "title": "Web", "visibility": "public", "widgets": [
            {"key": "hits", "title": "Hits", "kind": "line", "config": {"max_points": 50}}
        ]}
    ], "playlists": []})
}

async fn export_with(app: &TestApp, token: &str) -> reqwest::Response {
    app.client.get(app.url("/dashboard/export")).bearer_auth(token).send().await.unwrap()
}

pub async fn export(app: &TestApp) -> String {
    let response = export_with(app, &app.token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.text().await.unwrap()
}

async fn import_with(app: &TestApp, token: &str, file: &Json, query: &str) -> (u16, Json) {
    let url = app.url(&format!("/dashboard/import{query}"));
    let response = app.client.post(url).bearer_auth(token).json(file).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn import(app: &TestApp, file: &Json, query: &str) -> Json {
    let (status, body) = import_with(app, &app.token, file, query).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn changes(body: &Json) -> Vec<&str> {
    body["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect()
}

#[tokio::test]
async fn export_then_import_into_an_empty_database_gives_the_same_file() {
    let first = TestApp::spawn().await;
    let body = import(&first, &sample_file(), "").await;
    assert_eq!(body["applied"], true);
    assert_eq!(
        changes(&body),
        [
            "create board ops",
            "create widget ops/cpu",
            "create widget ops/health",
            "create widget ops/queue",
            "create board web",
            "create widget web/hits"
        ]
    );
    first.push("ops", "cpu", json!({"value": 42})).await;
    let exported = export(&first).await;
    assert!(exported.ends_with("}\n") && !exported.contains("\"value\": 42"), "{exported}");
    let parsed: Json = serde_json::from_str(&exported).unwrap();
    assert_eq!((parsed["version"].clone(), parsed["playlists"].clone()), (json!(1), json!([])));
    assert_eq!(parsed["boards"][1]["widgets"][0]["position"], 0, "a position given by the database is written");

    let second = TestApp::spawn().await;
    import(&second, &parsed, "").await;
    assert_eq!(export(&second).await, exported);
    let again = import(&second, &parsed, "").await;
    assert_eq!((changes(&again).len(), again["applied"].clone()), (0, json!(false)), "{again}");
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_prune_deletes_only_the_files_boards_widgets() {
    let app = TestApp::spawn().await;
    let dry = import(&app, &sample_file(), "?dry_run=1").await;
    assert_eq!((changes(&dry).len(), dry["applied"].clone()), (6, json!(false)));
    assert_eq!(export(&app).await, "{\n  \"version\": 1,\n  \"boards\": [],\n  \"playlists\": []\n}\n");

    import(&app, &sample_file(), "").await;
    let mut file = sample_file();
    file["boards"] = json!([{"slug": "ops", "title": "Ops floor", "description": "The floor", "columns": 6, "widgets": [
        {"key": "cpu", "title": "CPU", "kind": "gauge", "config": {"min": 0, "max": 200, "unit": "%"}}
    ]}]);
    let kept = import(&app, &file, "").await;
    assert_eq!(changes(&kept), ["update board ops (title)", "update widget ops/cpu (config)"]);
    assert_eq!(app.count("widgets").await, 4, "without prune nothing is deleted");
    let before = export(&app).await;
    let planned = import(&app, &file, "?prune=1&dry_run=1").await;
    assert_eq!(changes(&planned), ["delete widget ops/health", "delete widget ops/queue"]);
    assert_eq!(export(&app).await, before);
    let pruned = import(&app, &file, "?prune=1").await;
    assert_eq!(changes(&pruned), changes(&planned));
    let exported: Json = serde_json::from_str(&export(&app).await).unwrap();
    let widgets = |board: usize| exported["boards"][board]["widgets"].as_array().unwrap().len();
    assert_eq!((widgets(0), widgets(1)), (1, 1), "web is not in the file: untouched");
    assert_eq!(exported["boards"][0]["visibility"], "private", "a file without visibility keeps the board's");
}

#[tokio::test]
async fn a_broken_file_is_refused_by_its_path_and_changes_nothing() {
    let app = TestApp::spawn().await;
    import(&app, &sample_file(), "").await;
    let widget = |kind: &str, config: Json| json!({"key": "cpu", "title": "CPU", "kind": kind, "config": config});
    let file_with = |ops_widgets: Json| {
        let mut file = sample_file();
        file["boards"][0]["title"] = json!("Changed before the problem");
        file["boards"][1]["widgets"] = ops_widgets;
        file
    };
    let mut duplicate = sample_file();
    duplicate["boards"][1]["slug"] = json!("ops");
    let mut future = sample_file();
    future["version"] = json!(2);
    let cases = [
        (duplicate, "boards[1].slug: duplicate \"ops\""),
        (file_with(json!([widget("pie", json!({}))])), "boards[1].widgets[0].kind: must be one of"),
        (
            file_with(json!([widget("gauge", json!({"max": "lots"}))])),
            "boards[1].widgets[0].config.max: must be a number",
        ),
        (future, "version: 2 is newer than this version of dashboard reads (1)"),
        // Found only against the database, after the first board was changed: rolled back too.
        (
            file_with(json!([{"key": "hits", "title": "Hits", "kind": "number"}])),
            "boards[1].widgets[0].kind: cannot change from line to number",
        ),
    ];
    let before = export(&app).await;
    for (file, expected) in cases {
        let (status, body) = import_with(&app, &app.token, &file, "").await;
        assert_eq!(status, 422, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(expected) && !message.contains('\n'), "{message:?} is not {expected:?}");
        assert_eq!(export(&app).await, before, "{expected}");
    }
    let malformed = app
        .client
        .post(app.url("/dashboard/import"))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body("{\"version\": 1, \"boards\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let too_large = json!({"version": 1, "boards": [], "pad": "x".repeat(4 * 1024 * 1024)});
    assert_eq!(import_with(&app, &app.token, &too_large, "").await.0, 413);
    assert_eq!(export(&app).await, before);
}

#[tokio::test]
async fn a_board_limited_token_exports_and_imports_only_its_boards() {
    let app = TestApp::spawn().await;
    import(&app, &sample_file(), "").await;
    let ops_editor = create_token(&app.db, "ops-editor", Role::Editor, Some(&["ops"])).await;
    let exported: Json = export_with(&app, &ops_editor).await.json().await.unwrap();
    let slugs: Vec<&str> = exported["boards"].as_array().unwrap().iter().map(|b| b["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["ops"], "the public board web is not one it may act on");

    let before = export(&app).await;
    let mut file = sample_file();
    file["boards"][0]["title"] = json!("Ops by the ops editor");
    let (status, body) = import_with(&app, &ops_editor, &file, "").await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("\"web\""), "{body}");
    assert_eq!(export(&app).await, before);

    let (status, body) =
        import_with(&app, &ops_editor, &json!({"version": 1, "boards": [file["boards"][0]]}), "").await;
    assert_eq!((status, changes(&body)), (200, vec!["update board ops (title)"]));
    let reader = create_token(&app.db, "reader", Role::Read, None).await;
    assert_eq!(export_with(&app, &reader).await.status(), 403);
    assert_eq!(import_with(&app, &reader, &sample_file(), "?dry_run=1").await.0, 403);

    let audit: Json = app.send(Method::GET, "/dashboard/audit", None).await.json().await.unwrap();
    let newest = &audit["entries"][0];
    assert_eq!((newest["action"].as_str(), newest["actor"].as_str()), (Some("import"), Some("ops-editor")));
    assert_eq!(newest["details"]["changes"], json!(["update board ops (title)"]));
}

#[tokio::test]
async fn source_headers_are_not_exported_and_a_reimport_keeps_them() {
    let app = TestApp::spawn().await;
    let mut file = sample_file();
    file["boards"][0]["widgets"][2]["config"]["source"]["headers"] = json!({"Authorization": "Bearer s3cret"});
    import(&app, &file, "").await;
    let exported = export(&app).await;
    assert!(!exported.contains("s3cret") && exported.contains("\"authorization\""), "{exported}");
    let again = import(&app, &serde_json::from_str(&exported).unwrap(), "").await;
    assert_eq!(changes(&again).len(), 0, "{again}");
    assert_eq!(app.stored_source_headers("queue").await, json!({"authorization": "Bearer s3cret"}));
}

#[tokio::test]
async fn open_streams_of_a_changed_board_are_told() {
    let app = TestApp::spawn().await;
    import(&app, &sample_file(), "").await;
    let request = app.client.get(app.url("/dashboard/stream?boards=ops,web")).bearer_auth(&app.token);
    let mut stream = SseClient::open(request).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
    let mut file = sample_file();
    file["boards"][0]["widgets"][0]["title"] = json!("CPU load");
    import(&app, &file, "").await;
    let frame = stream.next_event(WAIT).await.expect("a board frame");
    assert_eq!(frame.event.as_deref(), Some("board"));
    assert_eq!(frame.json(), json!({"board": "ops", "action": "imported"}));
}

#[tokio::test]
async fn playlists_travel_with_their_boards() {
    let mut file = sample_file();
    file["playlists"] = json!([{"name": "wall", "title": "Wall", "interval_s": 20, "boards": ["web", "ops"]}]);
    let first = TestApp::spawn().await;
    let body = import(&first, &file, "").await;
    assert_eq!(changes(&body).last(), Some(&"create playlist wall"));
    let exported = export(&first).await;
    let parsed: Json = serde_json::from_str(&exported).unwrap();
    assert_eq!(parsed["playlists"], file["playlists"]);

    let second = TestApp::spawn().await;
    import(&second, &parsed, "").await;
    assert_eq!(export(&second).await, exported, "the playlist round-trips");
    let again = import(&second, &parsed, "").await;
    assert_eq!(changes(&again).len(), 0, "{again}");

    file["playlists"][0]["boards"] = json!(["ops"]);
    file["playlists"][0]["interval_s"] = json!(30);
    let changed = import(&second, &file, "").await;
    assert_eq!(changes(&changed), ["update playlist wall (interval_s, boards)"]);

    let before = export(&second).await;
    let mut unknown = file.clone();
    unknown["playlists"][0]["boards"] = json!(["ops", "nowhere"]);
    unknown["boards"][0]["title"] = json!("Changed before the problem");
    let (status, body) = import_with(&second, &second.token, &unknown, "").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["message"], "playlists[0].boards: names boards that do not exist: nowhere");
    assert_eq!(export(&second).await, before, "nothing changed");

    let web_editor = create_token(&second.db, "web-editor", Role::Editor, Some(&["web"])).await;
    let only_web = json!({"version": 1, "boards": [], "playlists": [
        {"name": "wall", "title": "Wall", "interval_s": 30, "boards": ["web", "ops"]}
    ]});
    assert_eq!(import_with(&second, &web_editor, &only_web, "").await.0, 403, "ops is not its board");
    let exported: Json = export_with(&second, &web_editor).await.json().await.unwrap();
    assert_eq!(exported["playlists"], json!([]), "a playlist showing a board it may not act on is left out");
}
