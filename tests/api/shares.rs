//! Share links over the API and the CLI: who may make, list and revoke them, what is stored,
//! and what the audit log says.

use reqwest::Method;
use serde_json::{Value as Json, json};

use super::cli::{assert_one_line_error, dashboard};
use crate::common::{TestApp, create_token};
use dashboard::domain::Role;

#[tokio::test]
async fn an_editor_makes_lists_and_revokes_share_links_and_only_a_hash_is_stored() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let created =
        app.post("/dashboard/boards/ops/shares", json!({"name": "tv", "expires_at": "2999-01-01T00:00:00Z"})).await;
    assert_eq!(created.status(), 201);
    let share: Json = created.json().await.unwrap();
    let url = share["url"].as_str().unwrap();
    let secret = url.strip_prefix("/s/").unwrap();
    assert_eq!(secret.len(), 64, "{url}");
    assert_eq!((share["name"].as_str(), share["expires_at"].as_str()), (Some("tv"), Some("2999-01-01T00:00:00Z")));

    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM shares").fetch_one(&app.db).await.unwrap();
    assert_eq!(stored, dashboard::store::tokens::hash(secret), "a SHA-256 of the secret, not the secret");
    let dump: String =
        sqlx::query_scalar("SELECT string_agg(s::text, ' ') FROM shares s").fetch_one(&app.db).await.unwrap();
    let audit: String =
        sqlx::query_scalar("SELECT string_agg(a::text, ' ') FROM audit_log a").fetch_one(&app.db).await.unwrap();
    assert!(!dump.contains(secret) && !audit.contains(secret), "the secret is stored nowhere");

    let listed: Json = app.send(Method::GET, "/dashboard/boards/ops/shares", None).await.json().await.unwrap();
    let listed = &listed["shares"][0];
    assert_eq!((listed["name"].as_str(), listed["expired"].as_bool()), (Some("tv"), Some(false)));
    assert!(listed["revoked_at"].is_null() && !listed.to_string().contains(secret), "{listed}");

    let id = share["id"].as_i64().unwrap();
    let revoke = format!("/dashboard/boards/ops/shares/{id}");
    assert_eq!(app.send(Method::DELETE, &revoke, None).await.status(), 204);
    assert_eq!(app.send(Method::DELETE, &revoke, None).await.status(), 404, "revoked already");
    let listed: Json = app.send(Method::GET, "/dashboard/boards/ops/shares", None).await.json().await.unwrap();
    assert!(listed["shares"][0]["revoked_at"].is_string());

    let logged: Vec<(String, String, Json)> =
        sqlx::query_as("SELECT action, target, details FROM audit_log WHERE action LIKE 'share.%' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let names: Vec<_> =
        logged.iter().map(|(a, t, d)| (a.as_str(), t.as_str(), d["name"].as_str(), d["id"].as_i64())).collect();
    assert_eq!(names, [("share.created", "ops", Some("tv"), Some(id)), ("share.revoked", "ops", Some("tv"), Some(id))]);
}

#[tokio::test]
async fn a_bad_share_is_a_422_naming_the_field_and_an_unknown_board_or_link_a_404() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    for (body, field) in [
        (json!({"name": "tv", "expires_at": "2001-01-01T00:00:00Z"}), "expires_at"),
        (json!({"name": "tv", "expires_at": "next week"}), "expires_at"),
        (json!({"expires_at": "2999-01-01T00:00:00Z"}), "name"),
        (json!({"name": "  "}), "name"),
    ] {
        let response = app.post("/dashboard/boards/ops/shares", body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Json = response.json().await.unwrap();
        assert!(error["error"]["details"][field].is_string(), "{body}: {error}");
    }
    assert_eq!(app.post("/dashboard/boards/nope/shares", json!({"name": "tv"})).await.status(), 404);
    assert_eq!(app.send(Method::GET, "/dashboard/boards/nope/shares", None).await.status(), 404);
    assert_eq!(app.count("boards").await, 1);

    app.create_board("web", &[]).await;
    let on_web: Json = app.post("/dashboard/boards/web/shares", json!({"name": "tv"})).await.json().await.unwrap();
    let elsewhere = format!("/dashboard/boards/ops/shares/{}", on_web["id"]);
    assert_eq!(app.send(Method::DELETE, &elsewhere, None).await.status(), 404, "a link of another board");
    assert_eq!(app.send(Method::DELETE, "/dashboard/boards/ops/shares/999", None).await.status(), 404);
}

#[tokio::test]
async fn share_links_need_an_editor_of_the_board() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    app.create_board("web", &[]).await;
    let body = || Some(json!({"name": "tv"}));
    for role in [Role::Read, Role::Push] {
        let secret = create_token(&app.db, &format!("{role}"), role, None).await;
        assert_eq!(app.send_as(&secret, Method::POST, "/dashboard/boards/ops/shares", body()).await.status(), 403);
        assert_eq!(app.send_as(&secret, Method::GET, "/dashboard/boards/ops/shares", None).await.status(), 403);
    }
    let web_editor = create_token(&app.db, "web-editor", Role::Editor, Some(&["web"])).await;
    let refused = app.send_as(&web_editor, Method::POST, "/dashboard/boards/ops/shares", body()).await;
    assert_eq!(refused.status(), 403, "as for every other change to a board outside its list");
    assert_eq!(app.send_as(&web_editor, Method::POST, "/dashboard/boards/web/shares", body()).await.status(), 201);
    assert_eq!(app.post("/dashboard/boards/ops/shares", json!({"name": "tv"})).await.status(), 201, "an admin");
    assert_eq!(app.client.get(app.url("/dashboard/boards/ops/shares")).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn share_commands() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let url = &app.database_url;
    let created = dashboard(url, &["share", "create", "ops", "tv", "--expires", "30d"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let path = String::from_utf8_lossy(&created.stdout).trim().to_string();
    assert!(path.starts_with("/s/") && path.len() == 3 + 64, "{path}");
    let expires: f64 = sqlx::query_scalar("SELECT extract(epoch FROM expires_at - now())::float8 FROM shares")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!((29.0 * 86_400.0..=30.0 * 86_400.0).contains(&expires), "{expires}");

    let listed = String::from_utf8_lossy(&dashboard(url, &["share", "list", "ops"]).stdout).to_string();
    assert!(listed.contains("tv") && listed.contains("active") && !listed.contains(&path[3..]), "{listed}");
    let id: i64 = sqlx::query_scalar("SELECT id FROM shares").fetch_one(&app.db).await.unwrap();
    assert!(dashboard(url, &["share", "revoke", &id.to_string()]).status.success());
    assert!(String::from_utf8_lossy(&dashboard(url, &["share", "list"]).stdout).contains("revoked"));

    assert_one_line_error(&dashboard(url, &["share", "revoke", &id.to_string()]), "no active share link");
    assert_one_line_error(&dashboard(url, &["share", "create", "nope", "tv"]), "no board \"nope\"");
    assert_one_line_error(&dashboard(url, &["share", "list", "nope"]), "no board \"nope\"");
    assert_one_line_error(&dashboard(url, &["share", "create", "ops", "tv", "--expires", "7w"]), "--expires");
    assert_one_line_error(&dashboard(url, &["share", "create", "ops", " "]), "name");
    let logged: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, action FROM audit_log WHERE action LIKE 'share.%' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(logged, [("cli".into(), "share.created".into()), ("cli".into(), "share.revoked".into())]);
}
