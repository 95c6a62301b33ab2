//! A crowd of streams opening at once (issue 13's 19,900-stream rounds, or kiosk tabs
//! reconnecting after a restart): each open reads the newest event id it may see and, for a
//! board page (`?boards=`), which of its boards it may see. Those reads must not each hold a
//! database connection, or a crowd larger than the pool can serve within its 3 s time-out is
//! refused with 503.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use super::WAIT;
use crate::common::TestApp;
use crate::common::sse::SseClient;

/// More than the pool's 20 connections, as the crowd is in production.
const CROWD: usize = 200;
/// Longer than the pool's acquire time-out (3 s), so an open that waited for a connection of
/// its own would have been refused by now.
const SLOW_READS: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_larger_than_the_pool_opens_while_reads_are_slow_and_gets_every_later_event() {
    crowd_opens_while_reads_wait_behind("LOCK TABLE events IN ACCESS EXCLUSIVE MODE", "/dashboard/stream").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_board_pages_opens_while_reads_are_slow_and_gets_every_later_event() {
    crowd_opens_while_reads_wait_behind("LOCK TABLE boards IN ACCESS EXCLUSIVE MODE", "/dashboard/stream?boards=ops")
        .await;
}

/// `CROWD` streams open at `path` while the reads of their opens wait `SLOW_READS` behind
/// `lock`, as they would behind a busy database: none is refused, and each gets the next event
/// live.
async fn crowd_opens_while_reads_wait_behind(lock: &'static str, path: &str) {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    let before = app.push("ops", "n", json!({"value": 1})).await;

    let mut locked = app.db.begin().await.unwrap();
    sqlx::query(lock).execute(&mut *locked).await.unwrap();
    let url = app.url(path);
    // One client for the crowd: building one each (its TLS roots) would keep the test busy.
    let opening: Vec<_> = (0..CROWD).map(|_| tokio::spawn(SseClient::open(app.client.get(&url)))).collect();
    tokio::time::sleep(SLOW_READS).await;
    locked.rollback().await.unwrap();

    let mut streams: Vec<SseClient> = join_all(opening).await.into_iter().map(Result::unwrap).collect();
    let refused = streams.iter().filter(|s| s.status != 200).count();
    assert_eq!(refused, 0, "{refused} of {CROWD} opens were refused");
    let after = app.push("ops", "n", json!({"value": 2})).await;
    for stream in &mut streams {
        let hello = stream.next_event(WAIT).await.expect("hello");
        assert_eq!(hello.json()["last_event_id"], before, "the newest id when the stream opened");
        assert_eq!(stream.widget_ids(1, WAIT).await, [after], "the event after the open arrives live");
    }
}
