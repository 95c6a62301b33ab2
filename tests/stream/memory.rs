//! The server's memory under clients that resume and read history in bulk, measured on the
//! real binary as a separate process (`/proc/<pid>/status`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value as Json;

use crate::WAIT;
use crate::common::heavy::stalled_get;
use crate::common::{fresh_database, test_env};

/// What the load below may add to the server's resident memory. Replays and history responses
/// built whole took about 16 MB per stalled resume and per history read, well over 300 MB here.
const MAX_GROWTH_KB: u64 = 100 * 1024;
const EVENTS: i64 = 1000;
const RESUMES: usize = 20;
const HISTORY_READS: usize = 40;

/// `dashboard serve` as its own process; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(database_url: &str, extra: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut env = test_env(database_url, extra);
        env.retain(|(k, _)| k != "PORT");
        let child = Command::new(env!("CARGO_BIN_EXE_dashboard"))
            .arg("serve")
            .env("APP_ENV", "test")
            .envs(env)
            .env("PORT", port.to_string())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        for _ in 0..100 {
            if reqwest::get(server.url("/health")).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not come up");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// A `/proc/<pid>/status` figure in kB: `VmRSS` now, `VmHWM` the peak so far.
    fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    async fn events_delivered(&self) -> u64 {
        let debug: Json = reqwest::get(self.url("/dashboard/debug")).await.unwrap().json().await.unwrap();
        debug["stream"]["events_delivered"].as_u64().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

    let client = reqwest::Client::new();
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
