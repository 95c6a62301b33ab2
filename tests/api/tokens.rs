use serde_json::{Value as Json, json};

use crate::common::{TestApp, create_token};
use dashboard::domain::Role;
use dashboard::store::tokens;

async fn create_board_with(app: &TestApp, auth: Option<&str>) -> reqwest::Response {
    let mut request = app.client.post(app.url("/dashboard/boards")).json(&json!({"title": "T"}));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn writes_need_a_valid_token() {
    let app = TestApp::spawn().await;
    for auth in [None, Some("Bearer nope"), Some("Basic dXNlcjpwdw=="), Some("Bearer "), Some(app.token.as_str())] {
        let response = create_board_with(&app, auth).await;
        assert_eq!(response.status(), 401, "{auth:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"dashboard\"");
        assert_eq!(response.json::<Json>().await.unwrap()["error"]["code"], "unauthorized");
    }
    assert_eq!(app.count("boards").await, 0);
    let response = create_board_with(&app, Some(&format!("Bearer {}", app.token))).await;
    assert_eq!(response.status(), 201);
    // Reads are public.
    assert_eq!(app.get("/dashboard").await.status(), 200);
}

#[tokio::test]
async fn token_life_cycle() {
    let app = TestApp::spawn().await;
    let secret = create_token(&app.db, "ci", Role::Admin, None).await;
    assert!(secret.len() >= 32 + 5, "at least 128 bits of secret");
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT secret_hash FROM api_tokens WHERE name = 'ci'").fetch_one(&app.db).await.unwrap();
    assert_ne!(stored, secret.as_bytes(), "only a hash is stored");

    let used_before: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE name = 'ci'").fetch_one(&app.db).await.unwrap();
    assert!(used_before.is_none());
    assert_eq!(create_board_with(&app, Some(&format!("Bearer {secret}"))).await.status(), 201);
    let used_after: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_tokens WHERE name = 'ci'").fetch_one(&app.db).await.unwrap();
    assert!(used_after.is_some(), "last_used_at is recorded");

    tokens::revoke(&app.db, "ci").await.unwrap();
    assert_eq!(create_board_with(&app, Some(&format!("Bearer {secret}"))).await.status(), 401);
    assert!(tokens::revoke(&app.db, "ci").await.is_err(), "revoking twice reports it");
}

#[tokio::test]
async fn the_bootstrap_token_from_the_environment_is_accepted() {
    let app = TestApp::spawn_with(&[("DASHBOARD_API_TOKEN", "bootstrap-secret-123")]).await;
    assert_eq!(create_board_with(&app, Some("Bearer bootstrap-secret-123")).await.status(), 201);
    assert_eq!(create_board_with(&app, Some("Bearer bootstrap-secret-12")).await.status(), 401);
}
