//! The database going away: 503 with Retry-After, then recovery without a restart.

use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::common::tcp_proxy::TcpProxy;
use crate::common::{TestApp, fresh_database};

async fn status_of(app: &TestApp, path: &str) -> (u16, Option<String>, Json) {
    let response = app.get(path).await;
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (response.status().as_u16(), retry_after, response.json().await.unwrap_or(Json::Null))
}

#[tokio::test]
async fn a_lost_database_is_503_and_the_app_recovers_by_itself() {
    let direct = fresh_database().await;
    let parsed = url::Url::parse(&direct).unwrap();
    let target = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap_or(5432)).parse().unwrap();
    let proxy = TcpProxy::start(target).await;
    let mut through_proxy = parsed.clone();
    through_proxy.set_port(Some(proxy.port)).unwrap();
    let app = TestApp::spawn_on(through_proxy.as_str(), dashboard::startup::Role::Web, &[]).await;
    app.create_board("ops", &[("n", "number")]).await;

    proxy.cut();
    let (status, retry_after, body) = status_of(&app, "/dashboard/boards/ops").await;
    assert_eq!((status, retry_after.is_some()), (503, true), "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable");
    let (status, _, health) = status_of(&app, "/health").await;
    assert_eq!((status, health["database"].as_str()), (503, Some("down")));
    let push = app.post("/dashboard/boards/ops/widgets/n/events", json!({"value": 1})).await;
    assert_eq!(push.status(), 503);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..50 {
        if status_of(&app, "/dashboard/boards/ops").await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the app did not recover after the database came back");
    assert_eq!(app.post("/dashboard/boards/ops/widgets/n/events", json!({"value": 2})).await.status(), 201);
}
