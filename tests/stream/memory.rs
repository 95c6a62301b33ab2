//! The server's memory under clients that resume and read history in bulk, measured on the
//! real binary as a separate process (`/proc/<pid>/status`).

use std::time::Duration;

use futures_util::future::join_all;

use super::WAIT;
use crate::common::fresh_database;
use crate::common::heavy::stalled_get;
use crate::common::served::Server;

/// What the load below may add to the server's resident memory. Replays and history responses
/// built whole took about 16 MB per stalled resume and per history read, well over 300 MB here.
const MAX_GROWTH_KB: u64 = 100 * 1024;
const EVENTS: i64 = 1000;
const RESUMES: usize = 20;
const HISTORY_READS: usize = 40;

/// One text widget with `EVENTS` values of about 16 KiB, written before the server starts so
/// none of them passes through its live buffer.
async fn fill(database_url: &str) {
    let db = dashboard::store::connect(database_url).await.unwrap();
    sqlx::query(
        "WITH b AS (INSERT INTO boards (slug, title) VALUES ('big', 'big') RETURNING id),
              w AS (INSERT INTO widgets (board_id, key, title, kind) SELECT id, 't', 't', 'text' FROM b
                    RETURNING id, board_id)
         INSERT INTO events (board_id, widget_id, value)
         SELECT w.board_id, w.id, jsonb_build_object('text', 'large', 'pad', repeat('x', 16000))
         FROM w, generate_series(1, $1)",
    )
    .bind(EVENTS)
    .execute(&db)
    .await
    .unwrap();
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bulk_resumes_and_history_reads_stay_within_a_memory_bound() {
    let database_url = fresh_database().await;
    fill(&database_url).await;
    // A budget that lets the 16 MB backlog replay: the point is what a replay holds meanwhile.
    let server = Server::start(&database_url, &[("SSE_REPLAY_MAX_BYTES", "67108864")]).await;
    let before = server.memory_kb("VmRSS");

    let mut stalled = Vec::new();
    for _ in 0..RESUMES {
        let (status, socket) = stalled_get(server.port(), "/dashboard/stream", &[("Last-Event-ID", "0")]).await;
        assert_eq!(status, 200);
        stalled.push(socket);
    }
    // Every stalled stream has read (at least) its first page of the replay.
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.events_delivered().await < RESUMES as u64 * 16 {
        assert!(tokio::time::Instant::now() < deadline, "the replays did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let client = crate::common::http_client();
    let url = server.url("/dashboard/boards/big/widgets/t/events?limit=1000");
    let reads = (0..HISTORY_READS).map(|_| async {
        let response = client.get(&url).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        (status, body.len())
    });
    let results = join_all(reads).await;
    assert!(results.iter().all(|(status, _)| [200, 503].contains(status)), "{results:?}");
    let served = results.iter().filter(|(status, _)| *status == 200).count();
    assert!(served > 0, "no history read got through");

    let peak = server.memory_kb("VmHWM");
    let growth = peak.saturating_sub(before);
    eprintln!("RSS {before} kB before, peak {peak} kB: +{growth} kB; {served} of {HISTORY_READS} history reads served");
    assert!(growth < MAX_GROWTH_KB, "the server grew by {growth} kB (bound {MAX_GROWTH_KB} kB)");
    drop(stalled);
}
