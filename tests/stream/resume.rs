use serde_json::{Value as Json, json};

use super::WAIT;
use crate::common::heavy::{push_large, stalled_get};
use crate::common::sse::{SseClient, assert_ids};
use crate::common::{BOUND_VALUES, TestApp, UNDECODABLE_VALUE};

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

#[tokio::test]
async fn a_replay_of_many_pages_arrives_complete_and_in_order() {
    let app = TestApp::spawn_with(&[("SSE_REPLAY_LIMIT", "1000")]).await;
    app.create_board("ops", &[("n", "number"), ("t", "text")]).await;
    app.create_board("other", &[("t", "text")]).await;
    // Past a page's row bound (small values) and its byte bound (large ones), with another
    // board's events in between.
    let small: Vec<Json> = (0..250).map(|i| json!({"board": "ops", "widget": "n", "value": {"value": i}})).collect();
    let response: Json = app.post("/dashboard/events", json!({ "events": small })).await.json().await.unwrap();
    let mut expected: Vec<i64> = response["ids"].as_array().unwrap().iter().map(|id| id.as_i64().unwrap()).collect();
    for _ in 0..2 {
        expected.extend(push_large(&app, "ops", 30).await);
        push_large(&app, "other", 10).await;
    }
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), Some(0)).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
    let live = app.push("ops", "n", json!({"value": -1})).await;
    expected.push(live);
    assert_ids(&stream.widget_ids(expected.len(), WAIT).await, &expected);
}

#[tokio::test]
async fn a_backlog_over_the_byte_budget_gets_a_reset() {
    let app = TestApp::spawn_with(&[("SSE_REPLAY_MAX_BYTES", "100000")]).await;
    app.create_board("ops", &[("t", "text")]).await;
    let ids = push_large(&app, "ops", 10).await;
    // Five values of 16 KiB fit the budget; nine do not.
    let mut within = SseClient::connect(&app.url("/dashboard/stream"), Some(ids[4])).await;
    assert_ids(&within.widget_ids(5, WAIT).await, &ids[5..]);
    let mut over = SseClient::connect(&app.url("/dashboard/stream"), Some(ids[0])).await;
    over.next_event(WAIT).await.unwrap(); // hello
    let reset = over.next_event(WAIT).await.unwrap();
    assert_eq!(reset.event.as_deref(), Some("reset"));
    assert_eq!(reset.id, Some(ids[9]));
    assert!(reset.json()["reason"].as_str().unwrap().contains("100000 bytes"), "{}", reset.data);
}

#[tokio::test]
async fn past_sse_max_replays_a_resume_that_needs_a_replay_gets_503() {
    let app = TestApp::spawn_with(&[("SSE_MAX_REPLAYS", "1"), ("SSE_REPLAY_MAX_BYTES", "16000000")]).await;
    app.create_board("ops", &[("t", "text")]).await;
    // Over 6 MB to replay: more than the kernel's send buffer (at most 4 MiB) takes, so the
    // stalled replay stays open.
    let ids = push_large(&app, "ops", 400).await;
    let (status, stalled) = stalled_get(app.port, "/dashboard/stream", &[("Last-Event-ID", "0")]).await;
    assert_eq!(status, 200);

    let resume = || app.client.get(app.url("/dashboard/stream")).header("Last-Event-ID", ids[0].to_string()).send();
    let refused = resume().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(refused.json::<Json>().await.unwrap()["error"]["code"], "service_unavailable");
    // Nothing missed, nothing to replay: no permit needed.
    let current = SseClient::connect(&app.url("/dashboard/stream"), Some(ids[399])).await;
    assert_eq!(current.status, 200);

    // Closing the stalled stream gives its permit back.
    drop(stalled);
    let deadline = tokio::time::Instant::now() + WAIT;
    while resume().await.unwrap().status() != 200 {
        assert!(tokio::time::Instant::now() < deadline, "the replay permit never came back");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Reads `count` widget frames; returns each one's id and `value.value`.
async fn widget_values(stream: &mut SseClient, count: usize) -> Vec<(i64, f64)> {
    let mut values = Vec::new();
    while values.len() < count {
        let Some(frame) = stream.next(WAIT).await else { break };
        if frame.event.as_deref() == Some("widget") {
            values.push((frame.id.unwrap(), frame.json()["value"]["value"].as_f64().unwrap_or(f64::NAN)));
        }
    }
    values
}

/// Numbers at the bounds, and a huge one an older version stored straight in the database
/// (jsonb gives it back as 309 digits), stream live and on resume exactly as they were sent.
#[tokio::test]
async fn numbers_at_the_bounds_and_huge_stored_ones_stream_live_and_on_resume() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    let mut live = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
    assert_eq!(live.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
    let first = app.push("ops", "n", json!({"value": 1})).await;
    let mut sent = vec![(first, 1.0)];
    sent.push((app.insert_raw_event("ops", "n", r#"{"value": 1.7976931348623157e308}"#).await, f64::MAX));
    for value in BOUND_VALUES {
        sent.push((app.push("ops", "n", json!({"value": value})).await, value));
    }
    assert_eq!(widget_values(&mut live, sent.len()).await, sent, "live");
    let mut resumed = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), Some(first)).await;
    assert_eq!(widget_values(&mut resumed, sent.len() - 1).await, sent[1..], "resumed");
}

/// A row no double can hold is logged and skipped by every reader: events after it still stream
/// live, a resume across it delivers the rest, and the board's JSON readers answer 200; a widget
/// whose config cannot be read shows without it.
#[tokio::test]
async fn a_row_that_cannot_be_decoded_is_skipped_by_every_reader() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number"), ("g", "gauge")]).await;
    app.set_raw_config("ops", "g", r#"{"unit": "%", "max": 1e400}"#).await;
    app.insert_raw_event("ops", "g", UNDECODABLE_VALUE).await;
    let mut live = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
    assert_eq!(live.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
    let before = app.push("ops", "n", json!({"value": 1})).await;
    app.insert_raw_event("ops", "n", UNDECODABLE_VALUE).await;
    let after = app.push("ops", "n", json!({"value": 2})).await;
    assert_ids(&live.widget_ids(2, WAIT).await, &[before, after]);
    let mut resumed = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), Some(before)).await;
    assert_ids(&resumed.widget_ids(1, WAIT).await, &[after]);

    let read = |path: &'static str| {
        let app = &app;
        async move {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{path}");
            response.json::<Json>().await.unwrap()
        }
    };
    let history = read("/dashboard/boards/ops/widgets/n/events").await;
    let ids: Vec<i64> = history["events"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [before, after]);
    let board = read("/dashboard/boards/ops").await;
    assert_eq!(board["widgets"][0]["latest"]["id"], after);
    assert_eq!(board["widgets"][1]["config"], json!({}), "shown without its config");
    assert!(board["widgets"][1]["latest"].is_null(), "its only event cannot be read");
    let gauge = read("/dashboard/boards/ops/widgets/g").await;
    assert_eq!((&gauge["config"], &gauge["latest"]), (&json!({}), &Json::Null));
    assert_eq!(read("/dashboard/boards/ops/widgets/n").await["latest"]["id"], after);
}

/// An event of a widget whose kind this version does not know is skipped live and on resume,
/// never sent as some other kind.
#[tokio::test]
async fn events_of_a_widget_of_unknown_kind_are_skipped() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number"), ("odd", "text")]).await;
    let before = app.push("ops", "n", json!({"value": 1})).await;
    app.push("ops", "odd", json!({"text": "first"})).await;
    app.set_raw_kind("ops", "odd", "hologram").await;
    let mut live = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), None).await;
    assert_eq!(live.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
    app.insert_raw_event("ops", "odd", r#"{"text": "second"}"#).await;
    let after = app.push("ops", "n", json!({"value": 2})).await;
    assert_ids(&live.widget_ids(1, WAIT).await, &[after]);
    let mut resumed = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), Some(0)).await;
    assert_ids(&resumed.widget_ids(2, WAIT).await, &[before, after]);
}

/// A skipped row still counts against the replay limit: replaying what decodes of the first
/// `limit + 1` rows would silently leave out the events after them.
#[tokio::test]
async fn a_skipped_row_counts_against_the_replay_limit() {
    let app = TestApp::spawn_with(&[("SSE_REPLAY_LIMIT", "2")]).await;
    app.create_board("ops", &[("n", "number")]).await;
    let start = app.push("ops", "n", json!({"value": 0})).await;
    app.push("ops", "n", json!({"value": 1})).await;
    app.insert_raw_event("ops", "n", UNDECODABLE_VALUE).await;
    app.push("ops", "n", json!({"value": 2})).await;
    let newest = app.push("ops", "n", json!({"value": 3})).await;
    let mut stream = SseClient::connect(&app.url("/dashboard/stream?boards=ops"), Some(start)).await;
    stream.next_event(WAIT).await.unwrap(); // hello
    let reset = stream.next_event(WAIT).await.unwrap();
    assert_eq!(reset.event.as_deref(), Some("reset"), "{reset:?}");
    assert_eq!(reset.id, Some(newest));
}
