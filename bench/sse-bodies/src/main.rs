//! CPU per delivery and memory per idle stream of two SSE bodies in one actix-web server:
//! `ours`, frames serialized once per event and shared as `Bytes` (src/realtime/frame.rs), and
//! `lab`, actix-web-lab's `Sse` responder, which writes each stream's events itself (given the
//! event's id and data already made once, as `ByteString`s it only clones).
//!
//! `sse-bodies compare STREAMS EVENTS ROUNDS` runs, per round and body, a fresh server process
//! (`sse-bodies serve BODY PORT`), opens STREAMS streams, samples its RSS, then has it publish
//! EVENTS events 10 ms apart and sums its threads' CPU time until every stream has every event.
//! Everything runs on loopback.

use std::convert::Infallible;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use actix_web::web::{Bytes, Data, Path};
use actix_web::{App, HttpResponse, HttpServer, Responder, get, post};
use actix_web_lab::sse::{self, Sse};
use bytestring::ByteString;
use futures_util::{Stream, StreamExt, stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, watch};

const BASE_PORT: u16 = 3950;
const PUBLISH_GAP: Duration = Duration::from_millis(10);
/// Ample even on a busy machine: what is measured is CPU time, not how long delivery took.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(300);
/// A widget event as the hub sends it, about the size of a number widget's.
const EVENT_DATA: &str = r#"{"id":123456,"board":"ops","widget":"cpu","kind":"number","value":{"number":42.5},"at":"2026-11-30T22:00:00.123456Z"}"#;

/// One event, in both shapes: each body uses its own.
#[derive(Clone)]
struct Event {
    wire: Bytes,
    id: ByteString,
    data: ByteString,
}

impl Event {
    fn new(id: u64) -> Self {
        Self {
            wire: Bytes::from(format!("id: {id}\nevent: widget\ndata: {EVENT_DATA}\n\n")),
            id: id.to_string().into(),
            data: EVENT_DATA.into(),
        }
    }
}

fn events(hub: &broadcast::Sender<Event>) -> impl Stream<Item = Event> + use<> {
    stream::unfold(hub.subscribe(), |mut receiver| async move { Some((receiver.recv().await.ok()?, receiver)) })
}

#[get("/ours")]
async fn ours(hub: Data<broadcast::Sender<Event>>) -> impl Responder {
    let hello = Bytes::from_static(b"retry: 2000\n\nevent: hello\ndata: {}\n\n");
    let body = stream::iter([hello]).chain(events(&hub).map(|event| event.wire)).map(Ok::<_, Infallible>);
    HttpResponse::Ok().content_type("text/event-stream").streaming(body)
}

#[get("/lab")]
async fn lab(hub: Data<broadcast::Sender<Event>>) -> impl Responder {
    let hello = sse::Event::Data(sse::Data::new("{}").event("hello"));
    let live = events(&hub).map(|event| sse::Event::Data(sse::Data::new(event.data).id(event.id).event("widget")));
    Sse::from_infallible_stream(stream::iter([hello]).chain(live)).with_retry_duration(Duration::from_secs(2))
}

#[post("/publish/{events}")]
async fn publish(hub: Data<broadcast::Sender<Event>>, events: Path<u64>) -> impl Responder {
    for id in 1..=events.into_inner() {
        let _ = hub.send(Event::new(id));
        tokio::time::sleep(PUBLISH_GAP).await;
    }
    HttpResponse::NoContent()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["serve", body, port] => serve(body, port.parse().expect("a port")),
        ["compare", streams, events, rounds] => {
            let number = |s: &str| s.parse::<u64>().expect("a number");
            compare(number(streams), number(events), number(rounds))
        }
        _ => eprintln!("usage: sse-bodies compare STREAMS EVENTS ROUNDS | serve (ours|lab) PORT"),
    }
}

#[actix_web::main]
async fn serve(body: &str, port: u16) {
    let (hub, _) = broadcast::channel::<Event>(1024);
    let hub = Data::new(hub);
    let ours_body = body == "ours";
    HttpServer::new(move || {
        let app = App::new().app_data(hub.clone()).service(publish);
        if ours_body { app.service(ours) } else { app.service(lab) }
    })
    .workers(1)
    .backlog(4096)
    .bind(("127.0.0.1", port))
    .expect("the port is free")
    .run()
    .await
    .expect("the server runs");
}

/// One measurement: a fresh server of `body`, `streams` streams, `events` events.
struct Sample {
    kib_per_stream: f64,
    cpu_ns_per_delivery: f64,
}

fn compare(streams: u64, events: u64, rounds: u64) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let mut results: Vec<(&str, Vec<Sample>)> = vec![("ours", vec![]), ("lab", vec![])];
    for round in 0..rounds {
        for (i, (body, samples)) in results.iter_mut().enumerate() {
            let port = BASE_PORT + (round * 2) as u16 + i as u16;
            let sample = runtime.block_on(measure(body, port, streams, events));
            println!(
                "round {round} {body}: {:.2} KiB per stream, {:.0} ns CPU per delivery",
                sample.kib_per_stream, sample.cpu_ns_per_delivery
            );
            samples.push(sample);
        }
    }
    for (body, samples) in &results {
        let median = |f: fn(&Sample) -> f64| {
            let mut values: Vec<f64> = samples.iter().map(f).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        println!(
            "median {body}: {:.2} KiB per stream, {:.0} ns CPU per delivery",
            median(|s| s.kib_per_stream),
            median(|s| s.cpu_ns_per_delivery)
        );
    }
}

async fn measure(body: &str, port: u16, streams: u64, events: u64) -> Sample {
    let exe = std::env::current_exe().expect("this executable");
    let server = Server(Command::new(exe).args(["serve", body, &port.to_string()]).spawn().expect("the server starts"));
    let pid = server.0.id();
    wait_for_port(port).await;
    let idle = rss_kib(pid);
    let (delivered, watch_delivered) = watch::channel(0u64);
    let delivered = std::sync::Arc::new(delivered);
    let mut readers = Vec::new();
    for _ in 0..streams {
        readers.push(open_stream(port, body, delivered.clone()).await);
    }
    // Every stream has its hello; let the server settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = rss_kib(pid);
    let cpu_before = cpu_ns(pid);
    let mut publisher = TcpStream::connect(("127.0.0.1", port)).await.expect("the server listens");
    let request = format!("POST /publish/{events} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    publisher.write_all(request.as_bytes()).await.expect("the publish request is sent");
    let mut watch_delivered = watch_delivered;
    let expected = streams * events;
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    while *watch_delivered.borrow_and_update() < expected {
        if tokio::time::timeout_at(deadline.into(), watch_delivered.changed()).await.is_err() {
            panic!("{body}: {} of {expected} deliveries in {DELIVERY_DEADLINE:?}", *watch_delivered.borrow());
        }
    }
    let cpu = cpu_ns(pid) - cpu_before;
    for reader in readers {
        reader.abort();
    }
    drop(server);
    Sample { kib_per_stream: (held - idle) as f64 / streams as f64, cpu_ns_per_delivery: cpu as f64 / expected as f64 }
}

/// A server process, stopped when dropped, also when a measurement fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not listen on {port}");
}

/// Opens one stream, waits for its hello, then counts the widget events it gets.
async fn open_stream(
    port: u16,
    body: &str,
    delivered: std::sync::Arc<watch::Sender<u64>>,
) -> tokio::task::JoinHandle<()> {
    let mut connection = TcpStream::connect(("127.0.0.1", port)).await.expect("the server accepts");
    let request = format!("GET /{body} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n");
    connection.write_all(request.as_bytes()).await.expect("the request is sent");
    let mut seen = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    while !contains(&seen, b"event: hello") {
        let n = connection.read(&mut buffer).await.expect("the stream answers");
        assert!(n > 0, "the server closed a stream before its hello");
        seen.extend_from_slice(&buffer[..n]);
    }
    tokio::spawn(async move {
        let mut tail = Vec::new();
        loop {
            let Ok(n) = connection.read(&mut buffer).await else { return };
            if n == 0 {
                return;
            }
            tail.extend_from_slice(&buffer[..n]);
            // Counted only up to the last line end, so a line split between reads counts once.
            if let Some(last) = tail.iter().rposition(|&b| b == b'\n') {
                let events = count(&tail[..=last], b"event: widget");
                tail.drain(..=last);
                if events > 0 {
                    delivered.send_modify(|total| *total += events);
                }
            }
        }
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    count(haystack, needle) > 0
}

fn count(haystack: &[u8], needle: &[u8]) -> u64 {
    haystack.windows(needle.len()).filter(|window| window == &needle).count() as u64
}

/// The process's resident memory.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's status");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("a VmRSS line");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("VmRSS in KiB")
}

/// CPU time the process's threads have run, from the scheduler's nanosecond counts.
fn cpu_ns(pid: u32) -> u64 {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the server's threads");
    threads
        .filter_map(|thread| std::fs::read_to_string(thread.ok()?.path().join("schedstat")).ok())
        .filter_map(|schedstat| schedstat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
