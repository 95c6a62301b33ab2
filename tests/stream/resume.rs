use serde_json::{Value as Json, json};

use crate::WAIT;
use crate::common::TestApp;
use crate::common::sse::{SseClient, assert_ids};

async fn app_with_events(n: usize) -> (TestApp, Vec<i64>) {
    let app = TestApp::spawn_with(&[("SSE_REPLAY_LIMIT", "50")]).await;
    app.create_board("ops", &[("n", "number")]).await;
    app.create_board("other", &[("x", "number")]).await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(app.push("ops", "n", json!({"value": i})).await);
        app.push("other", "x", json!({"value": i})).await;
    }
    (app, ids)
}

#[tokio::test]
async fn resume_by_header_replays_then_goes_live() {
    let (app, ids) = app_with_events(10).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), Some(ids[3])).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
    let live = app.push("ops", "n", json!({"value": 99})).await;
    let mut expected = ids[4..].to_vec();
    expected.push(live);
    assert_ids(&stream.widget_ids(expected.len(), WAIT).await, &expected);
}

#[tokio::test]
async fn resume_by_query_parameter() {
    let (app, ids) = app_with_events(5).await;
    let url = app.url(&format!("/dashboard/stream?boards=ops&last_event_id={}", ids[1]));
    let mut stream = SseClient::connect(&url, None).await;
    assert_ids(&stream.widget_ids(3, WAIT).await, &ids[2..]);
}

#[tokio::test]
async fn too_many_missed_events_get_a_reset() {
    let (app, ids) = app_with_events(60).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), Some(ids[0])).await;
    stream.next_event(WAIT).await.unwrap(); // hello
    let reset = stream.next_event(WAIT).await.unwrap();
    assert_eq!(reset.event.as_deref(), Some("reset"));
    let newest = reset.json()["last_event_id"].as_i64().unwrap();
    assert_eq!(reset.id, Some(newest), "a browser resumes after the reset, not before it");
    // Live events still follow.
    let live = app.push("ops", "n", json!({"value": 1})).await;
    assert_ids(&stream.widget_ids(1, WAIT).await, &[live]);
}

#[tokio::test]
async fn an_id_from_the_future_gets_a_reset() {
    let (app, _) = app_with_events(2).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream"), Some(1_000_000)).await;
    stream.next_event(WAIT).await.unwrap();
    assert_eq!(stream.next_event(WAIT).await.unwrap().event.as_deref(), Some("reset"));
}

/// What a page does: render the snapshot, then stream from its `last_event_id`. Events pushed
/// in between must all arrive, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshot_then_stream_has_no_gap() {
    let (app, _) = app_with_events(3).await;
    let writer = {
        let (client, url, token) =
            (app.client.clone(), app.url("/dashboard/boards/ops/widgets/n/events"), app.token.clone());
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..40 {
                let response = client.post(&url).bearer_auth(&token).json(&json!({"value": i})).send().await.unwrap();
                ids.push(response.json::<Json>().await.unwrap()["id"].as_i64().unwrap());
            }
            ids
        })
    };
    let snapshot: Json = app.get("/dashboard/boards/ops").await.json().await.unwrap();
    let from = snapshot["last_event_id"].as_i64().unwrap();
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), Some(from)).await;
    let pushed = writer.await.unwrap();
    let expected: Vec<i64> = pushed.into_iter().filter(|id| *id > from).collect();
    assert_ids(&stream.widget_ids(expected.len(), WAIT).await, &expected);
}
