//! `/metrics` and `/dashboard/debug` name hosts, jobs and job errors: `METRICS_TOKEN` guards
//! them, and in production they are closed until it is set.

use dashboard::startup::Role;
use serde_json::Value as Json;

use crate::common::TestApp;

const METRICS_TOKEN: &str = "metrics-token-for-the-scraper";

/// Status and JSON error body (`Null` for a success) of a GET with this Bearer token.
async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Option<String>, Json) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
    let body = if status == 200 { Json::Null } else { response.json().await.unwrap() };
    (status, challenge, body)
}

/// A `serve` and a `stream` process with these settings.
async fn processes(env: &[(&str, &str)]) -> [TestApp; 2] {
    let web = TestApp::spawn_with(env).await;
    let stream = TestApp::spawn_on(&web.database_url, Role::StreamOnly, env).await;
    [web, stream]
}

/// Every operator endpoint of both processes.
fn endpoints([web, stream]: &[TestApp; 2]) -> [(&TestApp, &'static str); 3] {
    [(web, "/metrics"), (web, "/dashboard/debug"), (stream, "/dashboard/debug")]
}

fn assert_refused((status, challenge, body): (u16, Option<String>, Json), what: &str) {
    assert_eq!(status, 401, "{what}: {body}");
    assert!(challenge.is_some_and(|c| c.starts_with("Bearer")), "{what}: a WWW-Authenticate challenge");
    assert_eq!(body["error"]["code"], "unauthorized", "{what}: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("METRICS_TOKEN"), "{what}: {body}");
}

#[tokio::test]
async fn with_a_metrics_token_set_they_need_it() {
    let apps = processes(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    for (app, path) in endpoints(&apps) {
        assert_refused(get(app, path, None).await, &format!("{path} without a token"));
        assert_refused(get(app, path, Some("metrics-token-for-the-scrapeR")).await, &format!("{path} wrong token"));
        assert_refused(get(app, path, Some(&app.token)).await, &format!("{path} with an API token"));
        assert_eq!(get(app, path, Some(METRICS_TOKEN)).await.0, 200, "{path} with METRICS_TOKEN");
    }
}

#[tokio::test]
async fn without_one_they_are_open_in_development_and_test() {
    let apps = processes(&[]).await;
    for (app, path) in endpoints(&apps) {
        assert_eq!(get(app, path, None).await.0, 200, "{path}");
    }
}

#[tokio::test]
async fn in_production_they_stay_closed_until_a_metrics_token_is_set() {
    let apps = processes(&[("APP_ENV", "production")]).await;
    for (app, path) in endpoints(&apps) {
        assert_refused(get(app, path, None).await, &format!("{path} without a token"));
        assert_refused(get(app, path, Some(&app.token)).await, &format!("{path} with an API token"));
    }
    let production = [("APP_ENV", "production"), ("METRICS_TOKEN", METRICS_TOKEN)];
    let apps = processes(&production).await;
    for (app, path) in endpoints(&apps) {
        assert_refused(get(app, path, None).await, &format!("{path} without a token"));
        assert_eq!(get(app, path, Some(METRICS_TOKEN)).await.0, 200, "{path} with METRICS_TOKEN");
    }
}
