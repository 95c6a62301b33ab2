//! The audit log: every change made with a token leaves exactly one entry, in the transaction
//! of the change; refused changes and pushed values leave none.

use reqwest::Method;
use serde_json::{Value as Json, json};

use crate::common::TestApp;

/// (actor, action, target) of the newest entries, newest first, as the API gives them.
async fn entries(app: &TestApp, query: &str) -> Vec<(String, String, String)> {
    let response = app.send(Method::GET, &format!("/dashboard/audit{query}"), None).await;
    assert_eq!(response.status(), 200);
    let body: Json = response.json().await.unwrap();
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap().to_string();
            (field("actor"), field("action"), field("target"))
        })
        .collect()
}

async fn token_name(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT name FROM api_tokens").fetch_one(&app.db).await.unwrap()
}

async fn audit_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&app.db).await.unwrap()
}

fn entry(actor: &str, action: &str, target: &str) -> (String, String, String) {
    (actor.into(), action.into(), target.into())
}

#[tokio::test]
async fn every_change_through_the_api_leaves_one_entry_naming_its_token() {
    // JOBS=off: the widget's source is never fetched (tests send nothing beyond loopback).
    let app = TestApp::spawn_with(&[("JOBS", "off")]).await;
    let me = token_name(&app).await;
    let send = |method: Method, path: &'static str, body: Option<Json>| app.send(method, path, body);
    assert_eq!(
        send(Method::POST, "/dashboard/boards", Some(json!({"slug": "ops", "title": "Ops"}))).await.status(),
        201
    );
    let rename = json!({"slug": "floor", "title": "Floor", "columns": 4});
    assert_eq!(send(Method::PATCH, "/dashboard/boards/ops", Some(rename.clone())).await.status(), 200);
    // The same values again change nothing, and say so by leaving no entry.
    assert_eq!(send(Method::PATCH, "/dashboard/boards/floor", Some(rename)).await.status(), 200);
    let widget = json!({"key": "cpu", "title": "CPU", "kind": "gauge"});
    assert_eq!(send(Method::POST, "/dashboard/boards/floor/widgets", Some(widget)).await.status(), 201);
    let source =
        json!({"url": "http://127.0.0.1:9/v?key=hunter2", "interval_s": 60, "headers": {"X-Key": "swordfish"}});
    let patch = json!({"title": "Load", "config": {"unit": "%", "source": source}});
    assert_eq!(send(Method::PATCH, "/dashboard/boards/floor/widgets/cpu", Some(patch)).await.status(), 200);
    app.push("floor", "cpu", json!({"value": 42})).await;
    assert_eq!(send(Method::DELETE, "/dashboard/boards/floor/widgets/cpu", None).await.status(), 204);
    assert_eq!(send(Method::DELETE, "/dashboard/boards/floor", None).await.status(), 204);

    assert_eq!(
        entries(&app, "").await,
        vec![
            entry(&me, "board.deleted", "floor"),
            entry(&me, "widget.deleted", "floor/cpu"),
            entry(&me, "widget.updated", "floor/cpu"),
            entry(&me, "widget.created", "floor/cpu"),
            entry(&me, "board.updated", "floor"),
            entry(&me, "board.created", "ops"),
        ]
    );
    let body: Json = app.send(Method::GET, "/dashboard/audit", None).await.json().await.unwrap();
    let details = |i: usize| body["entries"][i]["details"].clone();
    assert_eq!(details(4), json!({"slug": {"old": "ops", "new": "floor"}, "title": {"old": "Ops", "new": "Floor"}}));
    assert_eq!(details(2), json!({"title": {"old": "CPU", "new": "Load"}, "config": {"changed": ["source", "unit"]}}));
    let text = body.to_string();
    assert!(!text.contains("hunter2") && !text.contains("swordfish"), "no secret in the log: {text}");
}

#[tokio::test]
async fn the_bootstrap_token_is_named_as_the_actor() {
    let app = TestApp::spawn_with(&[("DASHBOARD_API_TOKEN", "bootstrap-secret-123")]).await;
    let response = app
        .client
        .post(app.url("/dashboard/boards"))
        .bearer_auth("bootstrap-secret-123")
        .json(&json!({"title": "Ops"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(entries(&app, "").await, vec![entry("DASHBOARD_API_TOKEN", "board.created", "ops")]);
}

#[tokio::test]
async fn refused_changes_leave_no_entry() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("cpu", "gauge")]).await;
    let before = audit_rows(&app).await;
    let refused: [(Method, &str, Option<Json>, u16); 8] = [
        (Method::POST, "/dashboard/boards", Some(json!({"title": ""})), 422),
        (Method::POST, "/dashboard/boards", Some(json!({"slug": "ops", "title": "Again"})), 409),
        (Method::PATCH, "/dashboard/boards/ops", Some(json!({"columns": 99})), 422),
        (Method::PATCH, "/dashboard/boards/nope", Some(json!({"title": "X"})), 404),
        (Method::DELETE, "/dashboard/boards/nope", None, 404),
        (
            Method::POST,
            "/dashboard/boards/ops/widgets",
            Some(json!({"key": "cpu", "title": "C", "kind": "gauge"})),
            409,
        ),
        (Method::PATCH, "/dashboard/boards/ops/widgets/nope", Some(json!({"title": "X"})), 404),
        (Method::DELETE, "/dashboard/boards/ops/widgets/nope", None, 404),
    ];
    for (method, path, body, status) in refused {
        let response = app.send(method.clone(), path, body).await;
        assert_eq!(response.status(), status, "{method} {path}");
    }
    assert_eq!(audit_rows(&app).await, before);
}

/// The entry is written in the transaction of the change: when it cannot be written, the change
/// is not made either.
#[tokio::test]
async fn a_change_whose_entry_cannot_be_written_is_not_made() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("cpu", "gauge")]).await;
    sqlx::query("ALTER TABLE audit_log ADD CONSTRAINT refuse_doomed CHECK (target NOT LIKE 'doomed%') NOT VALID")
        .execute(&app.db)
        .await
        .unwrap();
    let before = audit_rows(&app).await;
    let response = app.post("/dashboard/boards", json!({"slug": "doomed", "title": "D"})).await;
    assert_eq!(response.status(), 500);
    assert_eq!(app.count("boards").await, 1, "the board was not created");
    let response = app.send(Method::PATCH, "/dashboard/boards/ops", Some(json!({"slug": "doomed"}))).await;
    assert_eq!(response.status(), 500);
    assert_eq!(app.get("/dashboard/boards/ops").await.status(), 200, "the board kept its slug");
    let response = app.post("/dashboard/boards/ops/widgets", json!({"key": "x", "title": "X", "kind": "text"})).await;
    assert_eq!(response.status(), 201, "other changes still work");
    sqlx::query("ALTER TABLE audit_log ADD CONSTRAINT refuse_ops CHECK (target <> 'ops') NOT VALID")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(app.send(Method::DELETE, "/dashboard/boards/ops", None).await.status(), 500);
    assert_eq!(app.count("boards").await, 1, "the board was not deleted");
    assert_eq!(audit_rows(&app).await, before + 1);
}

#[tokio::test]
async fn entries_come_newest_first_and_limit_is_capped() {
    let app = TestApp::spawn().await;
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target)
         SELECT now() - make_interval(secs => 2000 - n), 'seed', 'board.created', 'b' || n FROM generate_series(1, 1005) n",
    )
    .execute(&app.db)
    .await
    .unwrap();
    app.create_board("newest", &[]).await;
    let targets = |list: Vec<(String, String, String)>| list.into_iter().map(|(_, _, t)| t).collect::<Vec<_>>();
    assert_eq!(targets(entries(&app, "?limit=3").await), ["newest", "b1005", "b1004"]);
    assert_eq!(entries(&app, "").await.len(), 100, "100 by default");
    assert_eq!(entries(&app, "?limit=5000").await.len(), 1000, "1000 at most");
    assert_eq!(targets(entries(&app, "?limit=0").await), ["newest"], "at least one");
}

#[tokio::test]
async fn the_audit_log_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    for auth in [None, Some("Bearer nope")] {
        let mut request = app.client.get(app.url("/dashboard/audit"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{auth:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"dashboard\"");
        assert_eq!(response.json::<Json>().await.unwrap()["error"]["code"], "unauthorized");
    }
    assert_eq!(app.send(Method::GET, "/dashboard/audit", None).await.status(), 200);
}

#[tokio::test]
async fn making_a_board_private_is_recorded_with_the_old_and_new_visibility() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let response = app.send(Method::PATCH, "/dashboard/boards/ops", Some(json!({"visibility": "private"}))).await;
    assert_eq!(response.status(), 200);
    let details: Json = sqlx::query_scalar("SELECT details FROM audit_log WHERE action = 'board.updated'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(details, json!({"visibility": {"old": "public", "new": "private"}}));
}
