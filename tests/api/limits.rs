//! Limits against abuse (429 with Retry-After) and HTTPS behind a proxy, over real HTTP.

use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use reqwest::{Response, StatusCode};
use serde_json::{Value as Json, json};

use crate::common::TestApp;

/// A 429 as the API gives it: `Retry-After` in whole seconds and the JSON error body.
async fn assert_rate_limited(response: Response) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    let body: Json = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(body["error"]["details"]["retry_after"], retry_after, "{body}");
    retry_after
}

/// `GET /dashboard` as a client at `address` (behind a trusted proxy) with this token.
async fn list_as(app: &TestApp, address: &str, token: Option<&str>) -> Response {
    let mut request = app.client.get(app.url("/dashboard")).header("X-Forwarded-For", address);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn past_the_failure_limit_an_address_is_refused_before_its_token_is_checked() {
    let app = TestApp::spawn_with(&[("AUTH_FAILURE_LIMIT", "3"), ("TRUST_PROXY", "true")]).await;
    let guesser = "203.0.113.9";
    for _ in 0..3 {
        assert_eq!(list_as(&app, guesser, Some("dash_wrong")).await.status(), 401);
    }
    // The right token now gets the same answer as a wrong one: guessing has stopped.
    let retry_after = assert_rate_limited(list_as(&app, guesser, Some(&app.token)).await).await;
    assert!(retry_after <= 20, "a failure comes back every 60 s / 3: {retry_after}");
    assert_rate_limited(list_as(&app, guesser, Some("dash_wrong")).await).await;
    let write = app.client.post(app.url("/dashboard/boards")).header("X-Forwarded-For", guesser);
    assert_rate_limited(write.bearer_auth(&app.token).json(&json!({"slug": "x"})).send().await.unwrap()).await;
    assert_eq!(list_as(&app, guesser, None).await.status(), 200, "reading without a credential checks none");

    // Another address is not affected, and its own failures count apart.
    let other = "203.0.113.10";
    assert_eq!(list_as(&app, other, Some(&app.token)).await.status(), 200);
    assert_eq!(list_as(&app, other, Some("dash_wrong")).await.status(), 401);
    assert_eq!(list_as(&app, other, Some(&app.token)).await.status(), 200);
}

#[tokio::test]
async fn malformed_and_missing_credentials_count_as_failures() {
    let app = TestApp::spawn_with(&[("AUTH_FAILURE_LIMIT", "2")]).await;
    let basic = app.client.get(app.url("/dashboard")).header(header::AUTHORIZATION, "Basic dXNlcjpwdw==");
    assert_eq!(basic.send().await.unwrap().status(), 401);
    let anonymous_write = app.client.post(app.url("/dashboard/boards")).json(&json!({"slug": "x"}));
    assert_eq!(anonymous_write.send().await.unwrap().status(), 401);
    assert_rate_limited(app.send(reqwest::Method::GET, "/dashboard", None).await).await;
}

async fn push_batch(app: &TestApp, values: &[i64]) -> Response {
    let events: Vec<Json> =
        values.iter().map(|v| json!({"board": "ops", "widget": "visitors", "value": {"value": v}})).collect();
    app.post("/dashboard/events", json!({ "events": events })).await
}

#[tokio::test]
async fn pushes_past_the_rate_limit_are_refused_whole_and_recover() {
    let app = TestApp::spawn_with(&[("PUSH_RATE_LIMIT", "2")]).await;
    app.create_board("ops", &[("visitors", "number")]).await;

    let single = |value: i64| app.post("/dashboard/boards/ops/widgets/visitors/events", json!({ "value": value }));
    assert_eq!(single(1).await.status(), 201);
    assert_eq!(single(2).await.status(), 201);
    // Two events a second, spent: the next batch is refused whole.
    assert_eq!(assert_rate_limited(push_batch(&app, &[3, 4]).await).await, 1);
    assert_eq!(app.count("events").await, 2, "nothing of a refused batch is written");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(push_batch(&app, &[5, 6]).await.status(), 201, "the budget is back after a second");

    // More events than a whole second's budget can never pass: not a 429 to retry.
    let response = push_batch(&app, &[8, 9, 10]).await;
    assert_eq!(response.status(), 422);
    let body: Json = response.json().await.unwrap();
    assert!(body["error"]["details"]["events"].as_str().unwrap().contains("PUSH_RATE_LIMIT"), "{body}");
    assert_eq!(app.count("events").await, 4);
}

#[tokio::test]
async fn without_a_push_rate_limit_pushes_are_not_counted() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("visitors", "number")]).await;
    for round in 0..3 {
        let values: Vec<i64> = (0..1000).map(|v| v + round * 1000).collect();
        assert_eq!(push_batch(&app, &values).await.status(), 201);
    }
}

fn hsts(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::STRICT_TRANSPORT_SECURITY).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn force_https_redirects_plain_requests_and_sends_hsts_over_https() {
    let app = TestApp::spawn_with(&[("FORCE_HTTPS", "true"), ("TRUST_PROXY", "true")]).await;
    let client = crate::common::no_redirects();

    let plain = client.get(app.url("/dashboard/boards/ops?kiosk=1")).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(plain.headers()[header::LOCATION], "https://127.0.0.1/dashboard/boards/ops?kiosk=1");
    let write = client.post(app.url("/dashboard/boards")).bearer_auth(&app.token).json(&json!({"slug": "x"}));
    assert_eq!(write.send().await.unwrap().status(), StatusCode::PERMANENT_REDIRECT, "nothing written over plain HTTP");
    assert_eq!(app.count("boards").await, 0);

    let secure = client.get(app.url("/dashboard")).header("X-Forwarded-Proto", "https").send().await.unwrap();
    assert_eq!(secure.status(), 200);
    assert_eq!(hsts(secure.headers()), Some("max-age=31536000"));

    // Health checks on the box or by the platform speak plain HTTP and do not follow redirects.
    let health = client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(hsts(health.headers()), None);
}

#[tokio::test]
async fn an_untrusted_forwarded_proto_does_not_count_as_https() {
    let app = TestApp::spawn_with(&[("FORCE_HTTPS", "true")]).await;
    let forged = crate::common::no_redirects()
        .get(app.url("/dashboard"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::PERMANENT_REDIRECT);

    let app = TestApp::spawn_with(&[("TRUST_PROXY", "true")]).await;
    let secure = app.client.get(app.url("/dashboard")).header("X-Forwarded-Proto", "https").send().await.unwrap();
    assert_eq!((secure.status(), hsts(secure.headers())), (StatusCode::OK, None), "FORCE_HTTPS unset");
}
