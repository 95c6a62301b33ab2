//! Streams opened and closed in a loop leave nothing behind: once the last client has closed,
//! the server's open files and stream slots are back where they were. Measured on the real
//! binary as a process of its own (`/proc/<pid>/fd`), so no other test's sockets count.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::net::TcpStream;

use super::closed::open_stream;
use crate::common::fresh_database;
use crate::common::served::Server;

/// Streams open at once in each round, and rounds: 2,000 streams in all.
const AT_ONCE: usize = 50;
const ROUNDS: usize = 40;
/// Nothing is pushed and no heartbeat comes: only the clients' closes can free anything.
const IDLE_HEARTBEAT: (&str, &str) = ("SSE_HEARTBEAT_INTERVAL", "600");
const SETTLED_WITHIN: Duration = Duration::from_secs(2);
/// Files of the baseline that may close while a round opens (CI once saw 74 with 50 streams
/// over a baseline of 25).
const BASELINE_SLACK: usize = 2;

/// Opens `AT_ONCE` streams side by side, each up to its `hello`.
async fn open_a_round(server: &Server) -> Vec<TcpStream> {
    join_all((0..AT_ONCE).map(|_| open_stream(server.port(), "/dashboard/stream"))).await
}

/// Waits until no stream holds a slot and the server's open files, its database pool's
/// connections aside, are at most `baseline` (any number when there is none yet); fails past
/// [`SETTLED_WITHIN`]. Returns the files open then, the test's kept-alive connection included.
async fn settle(server: &Server, database_port: u16, baseline: Option<usize>) -> usize {
    let since = Instant::now();
    loop {
        let (streams, files) = (server.open_streams().await, server.open_files_except_to(database_port));
        if streams == 0 && baseline.is_none_or(|baseline| files <= baseline) {
            return files;
        }
        let against = baseline.map_or(String::new(), |baseline| format!(" (baseline {baseline})"));
        assert!(
            since.elapsed() < SETTLED_WITHIN,
            "{SETTLED_WITHIN:?} after the last close: {streams} streams hold a slot, {files} files open{against}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn streams_opened_and_closed_in_a_loop_leave_no_file_or_slot_behind() {
    let database_url = fresh_database().await;
    let database_port = url::Url::parse(&database_url).unwrap().port().unwrap_or(5432);
    let server = Server::start(&database_url, &[IDLE_HEARTBEAT]).await;
    let baseline = settle(&server, database_port, None).await;

    let started = Instant::now();
    let streams = open_a_round(&server).await;
    let files = server.open_files_except_to(database_port);
    // Only a check that the count sees the streams: a file of the baseline (the kept-alive
    // connection of the slot reads, say) may have closed meanwhile.
    assert!(
        files + BASELINE_SLACK >= baseline + AT_ONCE,
        "{files} files open with {AT_ONCE} streams (baseline {baseline})"
    );
    drop(streams);
    for _ in 1..ROUNDS {
        drop(open_a_round(&server).await);
    }
    let churned = started.elapsed();
    let after = settle(&server, database_port, Some(baseline)).await;
    eprintln!(
        "{} streams opened and closed in {churned:?}; open files {baseline} before, {after} after",
        AT_ONCE * ROUNDS
    );
}
