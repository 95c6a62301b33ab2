//! Redis failing and recovering under a running stream: no event lost or duplicated.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value as Json, json};

use super::WAIT;
use crate::common::TestApp;
use crate::common::private_redis::PrivateRedis;
use crate::common::sse::{SseClient, assert_ids};

async fn stream_mode(app: &TestApp) -> String {
    let health: Json = app.get("/health").await.json().await.unwrap();
    health["stream_mode"].as_str().unwrap().to_string()
}

async fn wait_for_mode(app: &TestApp, mode: &str) {
    for _ in 0..150 {
        if stream_mode(app).await == mode {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("stream mode never became {mode}");
}

/// Pushes one event every 10 ms until stopped; returns the ids.
fn keep_pushing(app: &TestApp, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<i64>> {
    let (client, url, token) =
        (app.client.clone(), app.url("/dashboard/boards/ops/widgets/n/events"), app.token.clone());
    tokio::spawn(async move {
        let mut ids = Vec::new();
        while !stop.load(Ordering::Acquire) {
            let response =
                client.post(&url).bearer_auth(&token).json(&json!({"value": ids.len()})).send().await.unwrap();
            assert_eq!(response.status(), 201, "pushes succeed whether Redis is up or not");
            ids.push(response.json::<Json>().await.unwrap()["id"].as_i64().unwrap());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        ids
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_and_restarted_mid_run_loses_nothing() {
    let mut redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with(&[("REDIS_URL", &redis.url())]).await;
    app.create_board("ops", &[("n", "number")]).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().json()["mode"], "pubsub");

    let stop = Arc::new(AtomicBool::new(false));
    let writer = keep_pushing(&app, stop.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.kill();
    wait_for_mode(&app, "polling").await;
    let health: Json = app.get("/health").await.json().await.unwrap();
    assert_eq!((health["status"].as_str(), health["redis"].as_str()), (Some("degraded"), Some("down")));
    tokio::time::sleep(Duration::from_millis(700)).await;
    redis.restart().await;
    wait_for_mode(&app, "pubsub").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Release);
    let pushed = writer.await.unwrap();

    assert_ids(&stream.widget_ids(pushed.len(), WAIT).await, &pushed);
    let debug: Json = app.get("/dashboard/debug").await.json().await.unwrap();
    assert!(debug["redis"]["reconnects"].as_u64().unwrap() >= 1, "{debug}");
}

#[tokio::test]
async fn redis_unreachable_at_start_means_polling_from_the_start() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::spawn_with(&[("REDIS_URL", &format!("redis://127.0.0.1:{closed_port}"))]).await;
    app.create_board("ops", &[("n", "number")]).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().json()["mode"], "polling");
    let health: Json = app.get("/health").await.json().await.unwrap();
    assert_eq!(health, json!({"status": "degraded", "database": "ok", "redis": "down", "stream_mode": "polling"}));
    let id = app.push("ops", "n", json!({"value": 1})).await;
    assert_ids(&stream.widget_ids(1, WAIT).await, &[id]);
}

#[tokio::test]
async fn redis_over_tls_refuses_a_self_signed_certificate_unless_the_url_says_insecure() {
    let redis = PrivateRedis::start_tls().await;
    let verified = redis.url().replace("#insecure", "");
    let app = TestApp::spawn_with(&[("REDIS_URL", &verified)]).await;
    // The next test reaches pub/sub on the same server, with #insecure, well within this.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(stream_mode(&app).await, "polling");
    assert_eq!(redis.client_counts().await, (0, 0), "no connection of the app's got past the handshake");
}

#[tokio::test]
async fn redis_over_tls_with_a_self_signed_certificate_is_pubsub() {
    // Hosted Redis (Heroku's, for one) is reached with rediss:// and a self-signed certificate.
    let redis = PrivateRedis::start_tls().await;
    let app = TestApp::spawn_with(&[("REDIS_URL", &redis.url())]).await;
    wait_for_mode(&app, "pubsub").await;
    app.create_board("ops", &[("n", "number")]).await;
    app.push("ops", "n", json!({"value": 1})).await;
    // The subscriber and the publishers' pool both reach it over TLS.
    let mut counts = redis.client_counts().await;
    for _ in 0..50 {
        if counts.0 >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        counts = redis.client_counts().await;
    }
    let (clients, subscribed) = counts;
    assert_eq!(subscribed, 1, "one subscriber");
    assert!(clients >= 2, "a publisher connection too: {clients} clients");
}
