//! A client that closes its connection frees its stream slot at once, even on an idle board
//! where no frame would be written to it for a long while (the heartbeat here is 10 minutes).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::limits::open_connections;
use crate::common::TestApp;

const STREAMS: usize = 50;
/// Far longer than any wait below: only the close itself can free a slot.
const IDLE_HEARTBEAT: (&str, &str) = ("SSE_HEARTBEAT_INTERVAL", "600");
/// The target is 1 s; the bound leaves room for a busy machine, and the time taken is logged.
/// Without the close being seen, nothing would free a slot for 10 minutes.
const FREED_WITHIN: Duration = Duration::from_secs(2);

/// The stream of the board `quiet`, to which nothing is ever pushed.
const QUIET_STREAM: &str = "/dashboard/stream?boards=quiet";

/// Opens the stream at `path` on a raw socket and reads until its `hello` frame, so nothing is
/// left unread: closing the socket then sends a FIN, not a reset.
pub async fn open_stream(port: u16, path: &str) -> TcpStream {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    while !has_hello(&received) {
        let n = tokio::time::timeout(super::WAIT, socket.read(&mut buf)).await.expect("hello in time").unwrap();
        assert!(n > 0, "stream ended early: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buf[..n]);
    }
    assert!(received.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&received));
    socket
}

/// Whether the whole `hello` frame has come (the body is chunked: its blank line ends it).
fn has_hello(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    text.split_once("event: hello\n").is_some_and(|(_, rest)| rest.contains("\n\n"))
}

async fn open_idle_streams(app: &TestApp, n: usize) -> Vec<TcpStream> {
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        sockets.push(open_stream(app.port, QUIET_STREAM).await);
    }
    assert_eq!(open_connections(app).await, n as u64);
    sockets
}

/// How long `/dashboard/debug` took to count no open stream; fails past [`FREED_WITHIN`].
async fn time_until_no_stream_is_open(app: &TestApp, since: Instant) -> Duration {
    loop {
        let open = open_connections(app).await;
        if open == 0 {
            return since.elapsed();
        }
        assert!(since.elapsed() < FREED_WITHIN, "{open} closed streams still counted after {FREED_WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn idle_app(extra: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn_with(&[&[IDLE_HEARTBEAT], extra].concat()).await;
    app.create_board("quiet", &[("t", "text")]).await;
    app
}

#[tokio::test]
async fn closed_clients_of_an_idle_board_free_their_slots_at_once() {
    let app = idle_app(&[]).await;
    let sockets = open_idle_streams(&app, STREAMS).await;

    let closed = Instant::now();
    drop(sockets);
    let took = time_until_no_stream_is_open(&app, closed).await;
    eprintln!("{STREAMS} closed streams freed in {took:?}");
}

/// A client that shuts down only its sending side (browsers and curl never do) is taken as
/// gone, as nginx and Go's net/http take it: its stream ends and the server closes its side.
#[tokio::test]
async fn a_client_that_half_closes_is_taken_as_gone() {
    let app = idle_app(&[]).await;
    let mut sockets = open_idle_streams(&app, STREAMS).await;

    let closed = Instant::now();
    for socket in &mut sockets {
        socket.shutdown().await.unwrap();
    }
    let took = time_until_no_stream_is_open(&app, closed).await;
    eprintln!("{STREAMS} half-closed streams freed in {took:?}");
    let mut rest = Vec::new();
    let read = tokio::time::timeout(super::WAIT, sockets[0].read_to_end(&mut rest)).await;
    assert!(read.is_ok_and(|r| r.is_ok()), "the server closed its side too");
}

#[tokio::test]
async fn slots_of_closed_clients_admit_new_streams_at_once() {
    let limit = STREAMS.to_string();
    let app = idle_app(&[("SSE_MAX_CONNECTIONS", &limit)]).await;
    let sockets = open_idle_streams(&app, STREAMS).await;
    assert_eq!(app.get(QUIET_STREAM).await.status(), 503, "the limit is full");

    let closed = Instant::now();
    drop(sockets);
    let took = time_until_no_stream_is_open(&app, closed).await;
    eprintln!("{STREAMS} slots back in {took:?}");
    // The whole limit again, without waiting for anything.
    let _sockets = open_idle_streams(&app, STREAMS).await;
}
