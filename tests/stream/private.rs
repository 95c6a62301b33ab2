//! Streams and private boards: an anonymous stream gets nothing of a private board (frames, ids
//! in `hello` or `reset`, replays), and one that loses sight of a board ends, on every instance.

use std::time::Duration;

use dashboard::startup::Role;
use serde_json::json;

use super::WAIT;
use crate::common::sse::{Message, SseClient};
use crate::common::{TestApp, rand_suffix};

const TITLE: &str = "Quarterly Vault Figures";
const VALUE: f64 = 987654.125;
/// Making a board private ends the streams that may no longer see it within this long.
const ENDS_WITHIN: Duration = Duration::from_secs(5);

/// `lobby` (public) and `vault` (private), each with a widget `n` and one value; returns their ids.
async fn public_and_private(app: &TestApp) -> (i64, i64) {
    app.create_board("lobby", &[("n", "number")]).await;
    let board = json!({"slug": "vault", "title": TITLE, "visibility": "private"});
    assert_eq!(app.post("/dashboard/boards", board).await.status(), 201);
    let widget = json!({"key": "n", "title": "n", "kind": "number"});
    assert_eq!(app.post("/dashboard/boards/vault/widgets", widget).await.status(), 201);
    let public = app.push("lobby", "n", json!({"value": 1})).await;
    let private = app.push("vault", "n", json!({"value": VALUE})).await;
    (public, private)
}

fn with_token(app: &TestApp, path: &str) -> reqwest::RequestBuilder {
    app.client.get(app.url(path)).bearer_auth(&app.token)
}

/// Frames up to and including the widget frame with id `last`.
async fn frames_until(stream: &mut SseClient, last: i64) -> Vec<Message> {
    let mut frames = Vec::new();
    while let Some(frame) = stream.next_event(WAIT).await {
        let done = frame.id == Some(last);
        frames.push(frame);
        if done {
            return frames;
        }
    }
    panic!("event {last} did not arrive; got {frames:?}");
}

fn assert_no_trace(frames: &[Message], private_ids: &[i64]) {
    for frame in frames {
        for secret in ["vault", TITLE, &VALUE.to_string()] {
            assert!(!frame.data.contains(secret), "{secret:?} in {frame:?}");
        }
        assert!(frame.id.is_none_or(|id| !private_ids.contains(&id)), "a private event id: {frame:?}");
    }
}

#[tokio::test]
async fn an_anonymous_stream_gets_nothing_of_a_private_board() {
    let app = TestApp::spawn().await;
    let (public, private) = public_and_private(&app).await;
    let mut anonymous = SseClient::connect(&app.url("/dashboard/stream"), None).await;
    let hello = anonymous.next_event(WAIT).await.unwrap();
    assert_eq!(hello.json()["last_event_id"], public, "the newest id it may see, not {private}");
    let mut viewer = SseClient::open(with_token(&app, "/dashboard/stream")).await;
    assert_eq!(viewer.next_event(WAIT).await.unwrap().json()["last_event_id"], private);

    let retitle = json!({"title": "Vault, renamed"});
    assert_eq!(app.send(reqwest::Method::PATCH, "/dashboard/boards/vault", Some(retitle)).await.status(), 200);
    let private_later = app.push("vault", "n", json!({"value": VALUE})).await;
    let public_later = app.push("lobby", "n", json!({"value": 2})).await;

    let seen = frames_until(&mut anonymous, public_later).await;
    assert_eq!(seen.len(), 1, "only the public event: {seen:?}");
    assert_no_trace(&seen, &[private, private_later]);
    let seen = frames_until(&mut viewer, public_later).await;
    let kinds: Vec<_> = seen.iter().map(|f| (f.event.clone().unwrap(), f.id)).collect();
    let expected =
        [("board".into(), None), ("widget".into(), Some(private_later)), ("widget".into(), Some(public_later))];
    assert_eq!(kinds, expected, "a token sees the private board's change and event");

    let named = SseClient::connect(&app.url("/dashboard/stream?boards=vault"), None).await;
    assert_eq!(named.status, 404);
    let named = SseClient::open(with_token(&app, "/dashboard/stream?boards=vault")).await;
    assert_eq!(named.status, 200);
}

#[tokio::test]
async fn an_anonymous_resume_replays_and_resets_with_public_events_only() {
    let app = TestApp::spawn_with(&[("SSE_REPLAY_LIMIT", "2")]).await;
    let (public, private) = public_and_private(&app).await;
    let public_later = app.push("lobby", "n", json!({"value": 2})).await;
    let private_later = app.push("vault", "n", json!({"value": 3})).await;

    let mut resumed = SseClient::connect(&app.url("/dashboard/stream"), Some(0)).await;
    let hello = resumed.next_event(WAIT).await.unwrap();
    assert_eq!(hello.json()["last_event_id"], public_later);
    let replayed = frames_until(&mut resumed, public_later).await;
    assert_eq!(replayed.iter().map(|f| f.id).collect::<Vec<_>>(), [Some(public), Some(public_later)]);
    assert_no_trace(&replayed, &[private, private_later]);

    let third = app.push("lobby", "n", json!({"value": 4})).await;
    let mut too_far = SseClient::connect(&app.url("/dashboard/stream"), Some(0)).await;
    too_far.next_event(WAIT).await.unwrap();
    let reset = too_far.next_event(WAIT).await.unwrap();
    assert_eq!((reset.event.as_deref(), reset.id), (Some("reset"), Some(third)), "the newest id it may see");
    assert_eq!(reset.json()["last_event_id"], third);
}

/// Opens an anonymous stream of `lobby` and one of all boards on `app`, and a token's stream.
async fn streams_of(app: &TestApp) -> (Vec<SseClient>, SseClient) {
    let mut anonymous = Vec::new();
    for path in ["/dashboard/stream?boards=lobby", "/dashboard/stream"] {
        let mut stream = SseClient::connect(&app.url(path), None).await;
        assert_eq!(stream.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
        anonymous.push(stream);
    }
    let mut viewer = SseClient::open(with_token(app, "/dashboard/stream?boards=lobby")).await;
    assert_eq!(viewer.next_event(WAIT).await.unwrap().event.as_deref(), Some("hello"));
    (anonymous, viewer)
}

/// `lobby` is made private on `writer`: the anonymous streams of both instances end, the
/// token's streams carry on.
async fn making_lobby_private_ends_anonymous_streams(writer: &TestApp, reader: &TestApp) {
    writer.create_board("lobby", &[("n", "number")]).await;
    let (mut on_writer, mut viewer_on_writer) = streams_of(writer).await;
    let (mut on_reader, mut viewer_on_reader) = streams_of(reader).await;
    let private = json!({"visibility": "private"});
    assert_eq!(writer.send(reqwest::Method::PATCH, "/dashboard/boards/lobby", Some(private)).await.status(), 200);
    for stream in on_writer.iter_mut().chain(on_reader.iter_mut()) {
        assert!(stream.ends_within(ENDS_WITHIN).await, "an anonymous stream still open");
    }
    let pushed = writer.push("lobby", "n", json!({"value": 1})).await;
    for viewer in [&mut viewer_on_writer, &mut viewer_on_reader] {
        assert_eq!(viewer.widget_ids(1, WAIT).await, [pushed], "the token's stream goes on");
    }
}

#[tokio::test]
async fn making_a_board_private_ends_anonymous_streams_on_every_instance() {
    let prefix = format!("shared-{}", rand_suffix());
    let env = [("REDIS_CHANNEL_PREFIX", prefix.as_str())];
    let writer = TestApp::spawn_with(&env).await;
    let reader = TestApp::spawn_on(&writer.database_url, Role::Web, &env).await;
    making_lobby_private_ends_anonymous_streams(&writer, &reader).await;
}

#[tokio::test]
async fn an_instance_that_missed_the_board_message_still_ends_the_streams() {
    // Each app has a Redis channel prefix of its own: the reader hears nothing from the writer
    // and learns of the change only from PostgreSQL.
    let writer = TestApp::spawn().await;
    let reader = TestApp::spawn_on(&writer.database_url, Role::Web, &[]).await;
    making_lobby_private_ends_anonymous_streams(&writer, &reader).await;
}
