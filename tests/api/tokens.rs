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

async fn tokens_api(app: &TestApp, method: reqwest::Method, path: &str, body: Option<Json>) -> (u16, Json) {
    let response = app.send(method, path, body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Json::Null))
}

#[tokio::test]
async fn admins_create_list_and_revoke_tokens_over_the_api() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("cpu", "number")]).await;
    let body = json!({"name": "ci", "role": "push", "boards": ["ops"]});
    let (status, created) = tokens_api(&app, reqwest::Method::POST, "/dashboard/tokens", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (&created["name"], &created["role"], &created["boards"]),
        (&json!("ci"), &json!("push"), &json!(["ops"]))
    );
    let secret = created["secret"].as_str().unwrap().to_string();
    let push = || {
        let url = app.url("/dashboard/boards/ops/widgets/cpu/events");
        app.client.post(url).bearer_auth(&secret).json(&json!({"value": 1})).send()
    };
    assert_eq!(push().await.unwrap().status(), 201, "the new secret works at once");

    let (status, listed) = tokens_api(&app, reqwest::Method::GET, "/dashboard/tokens", None).await;
    assert_eq!(status, 200);
    let ci = listed["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "ci").unwrap().clone();
    assert_eq!((&ci["role"], &ci["boards"], &ci["revoked_at"]), (&json!("push"), &json!(["ops"]), &Json::Null));
    assert!(ci["created_at"].is_string() && ci["last_used_at"].is_string(), "{ci}");
    let harness = listed["tokens"].as_array().unwrap().iter().find(|t| t["name"] != "ci").unwrap();
    assert_eq!((&harness["role"], &harness["boards"]), (&json!("admin"), &Json::Null), "unlimited is null");
    let text = listed.to_string();
    assert!(!text.contains(&secret) && !text.contains("secret") && !text.contains("hash"), "{text}");

    let (status, _) = tokens_api(&app, reqwest::Method::DELETE, "/dashboard/tokens/ci", None).await;
    assert_eq!(status, 204);
    assert_eq!(push().await.unwrap().status(), 401, "a revoked token's next request is refused");
    let (status, error) = tokens_api(&app, reqwest::Method::DELETE, "/dashboard/tokens/ci", None).await;
    assert_eq!((status, &error["error"]["code"]), (404, &json!("not_found")));
}

#[tokio::test]
async fn a_token_that_cannot_be_made_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[]).await;
    let cases = [
        (json!({"role": "push"}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": "a", "role": "owner"}), "role"),
        (json!({"name": "a", "boards": ["ops", "nope"]}), "boards"),
        (json!({"name": "a", "role": "admin", "boards": ["ops"]}), "boards"),
        (json!({"name": "a", "boards": []}), "boards"),
    ];
    let before = app.count("api_tokens").await;
    for (body, field) in cases {
        let (status, error) = tokens_api(&app, reqwest::Method::POST, "/dashboard/tokens", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {error}");
        assert!(error["error"]["details"][field].is_string(), "{body} should name {field}: {error}");
    }
    let (_, error) =
        tokens_api(&app, reqwest::Method::POST, "/dashboard/tokens", Some(json!({"name": "a", "boards": ["nope"]})))
            .await;
    assert!(error["error"]["details"]["boards"].as_str().unwrap().contains("\"nope\""), "{error}");
    assert_eq!(app.count("api_tokens").await, before, "nothing half-made");

    let body = json!({"name": "twice"});
    assert_eq!(tokens_api(&app, reqwest::Method::POST, "/dashboard/tokens", Some(body.clone())).await.0, 201);
    let (status, error) = tokens_api(&app, reqwest::Method::POST, "/dashboard/tokens", Some(body)).await;
    assert_eq!((status, &error["error"]["details"]["name"]), (409, &json!("is already taken")));
}

#[tokio::test]
async fn a_token_revoked_on_one_instance_is_refused_by_another_at_once() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(&first.database_url, dashboard::startup::Role::Web, &[]).await;
    let (status, created) =
        tokens_api(&first, reqwest::Method::POST, "/dashboard/tokens", Some(json!({"name": "roaming"}))).await;
    assert_eq!(status, 201);
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(create_board_with(&second, Some(&format!("Bearer {secret}"))).await.status(), 201);
    assert_eq!(tokens_api(&first, reqwest::Method::DELETE, "/dashboard/tokens/roaming", None).await.0, 204);
    assert_eq!(create_board_with(&second, Some(&format!("Bearer {secret}"))).await.status(), 401);
    let read = second.client.get(second.url("/dashboard")).bearer_auth(secret).send().await.unwrap();
    assert_eq!(read.status(), 401, "reads with a revoked token are refused too");
}
