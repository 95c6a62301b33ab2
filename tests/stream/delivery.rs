use serde_json::json;

use super::WAIT;
use crate::common::private_redis::PrivateRedis;
use crate::common::sse::{SseClient, assert_ids};
use crate::common::{TestApp, rand_suffix};
use dashboard::config::Secret;
use dashboard::realtime::board_message::BoardMessages;
use dashboard::startup::Role;

const WRITERS: usize = 5;
const EVENTS_PER_WRITER: usize = 200;

/// Pushes `per_writer` events from each of `writers` concurrent tasks; returns every id.
async fn push_concurrently(app: &TestApp, writers: usize, per_writer: usize) -> Vec<i64> {
    let tasks = (0..writers).map(|w| {
        let (client, url, token) =
            (app.client.clone(), app.url("/dashboard/boards/ops/widgets/n/events"), app.token.clone());
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..per_writer {
                let response =
                    client.post(&url).bearer_auth(&token).json(&json!({"value": w * 1000 + i})).send().await.unwrap();
                assert_eq!(response.status(), 201);
                ids.push(response.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap());
            }
            ids
        })
    });
    let mut all = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        all.extend(task.await.unwrap());
    }
    all.sort_unstable();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_subscriber_gets_every_event_once_in_order() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    let mut subscribers = Vec::new();
    for _ in 0..3 {
        let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
        stream.next_event(WAIT).await.unwrap();
        subscribers.push(stream);
    }
    let pushed = push_concurrently(&app, WRITERS, EVENTS_PER_WRITER).await;
    assert_eq!(pushed.len(), WRITERS * EVENTS_PER_WRITER);
    for mut stream in subscribers {
        assert_ids(&stream.widget_ids(pushed.len(), WAIT).await, &pushed);
    }
}

#[tokio::test]
async fn subscribers_share_one_redis_connection() {
    let redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with(&[("REDIS_URL", &redis.url())]).await;
    app.create_board("ops", &[("n", "number")]).await;
    app.push("ops", "n", json!({"value": 1})).await; // the publisher pool is in use too
    assert_eq!(redis.client_counts().await.1, 1, "one subscriber connection per process");
    let mut streams = Vec::new();
    for _ in 0..200 {
        let mut stream = SseClient::connect(&app.url("/dashboard/stream"), None).await;
        stream.next_event(WAIT).await.unwrap();
        streams.push(stream);
    }
    let id = app.push("ops", "n", json!({"value": 2})).await;
    for stream in &mut streams {
        assert_ids(&stream.widget_ids(1, WAIT).await, &[id]);
    }
    // The publishers' pool holds at most 16; 200 streams with a connection each would show.
    let (all, subscribed) = redis.client_counts().await;
    assert_eq!(subscribed, 1, "still one subscriber connection");
    assert!(all <= 17, "{all} Redis connections for 200 streams");
}

#[tokio::test]
async fn an_event_pushed_to_one_instance_reaches_streams_of_another() {
    let prefix = format!("shared-{}", rand_suffix());
    // Polling is slowed to a minute, so only Redis can deliver within the wait.
    let env = [("REDIS_CHANNEL_PREFIX", prefix.as_str()), ("POLL_INTERVAL_MS", "60000")];
    let writer = TestApp::spawn_with(&env).await;
    let reader = TestApp::spawn_on(&writer.database_url, Role::Web, &env).await;
    writer.create_board("ops", &[("n", "number")]).await;
    let mut stream = SseClient::connect(&reader.url("/dashboard/stream?boards=ops"), None).await;
    let hello = stream.next_event(WAIT).await.unwrap();
    assert_eq!(hello.json()["mode"], "pubsub");
    let mut pushed = Vec::new();
    for i in 0..20 {
        pushed.push(writer.push("ops", "n", json!({"value": i})).await);
    }
    assert_ids(&stream.widget_ids(pushed.len(), WAIT).await, &pushed);
    // Structure changes travel between instances too.
    writer.post("/dashboard/boards/ops/widgets", json!({"key": "m", "title": "M", "kind": "text"})).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().json()["action"], "widget_created");
}

#[tokio::test]
async fn board_messages_from_redis_count_only_when_signed_by_an_instance() {
    let prefix = format!("shared-{}", rand_suffix());
    let env = [("REDIS_CHANNEL_PREFIX", prefix.as_str())];
    let writer = TestApp::spawn_with(&env).await;
    let reader = TestApp::spawn_on(&writer.database_url, Role::Web, &env).await;
    writer.create_board("ops", &[]).await;
    let mut stream = SseClient::connect(&reader.url("/dashboard/stream?boards=ops"), None).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().json()["mode"], "pubsub");

    // Anyone who can reach the Redis server can publish; what is not signed with the instances'
    // SECRET_KEY_BASE must not tell the page that its board was renamed.
    let redis_url = reader.env.iter().find(|(k, _)| k == "REDIS_URL").map(|(_, v)| v.clone()).unwrap();
    let mut redis = redis::Client::open(redis_url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let forged = json!({"instance": "intruder", "board": "ops", "action": "renamed"}).to_string();
    let other_key = BoardMessages::new(&Secret::new("not the secret key base the instances share"))
        .seal("intruder", "ops", "renamed", false);
    for message in [forged, other_key] {
        let _: () = redis::AsyncCommands::publish(&mut redis, format!("{prefix}:boards"), message).await.unwrap();
    }
    // Messages on one channel arrive in order: had a forged one counted, it would come before the
    // widget's creation. (The board's own `created` may still arrive first: Redis is not awaited.)
    writer.post("/dashboard/boards/ops/widgets", json!({"key": "m", "title": "M", "kind": "text"})).await;
    loop {
        let data = stream.next_event(WAIT).await.expect("the widget's creation arrives").json();
        assert_ne!(data["action"], "renamed", "a forged board message counted: {data}");
        if data == json!({"board": "ops", "action": "widget_created"}) {
            break;
        }
    }
}
