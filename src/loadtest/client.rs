//! One simulated browser: opens the stream, parses it, records which events it got and how
//! late, and reconnects with `Last-Event-ID` after the server's `retry` delay when the stream
//! drops, as `EventSource` does. A refusal (an HTTP error status other than 503, not an event
//! stream) ends it, as it ends an `EventSource`; after a 503 it reopens the stream after the
//! delay, as Dashboard's page does (static/js/stream.js). Told to churn (`--churn`), it drops its stream itself and
//! reconnects at once with `Last-Event-ID`, as a reloading tab would.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use memchr::memmem::Finder;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::http::{self, StreamError, Target};
use super::received::Received;
use super::sse::{Event, Item, Parser};
use super::stats::Stats;

/// A browser's reconnection delay until the server sends `retry`.
const DEFAULT_RETRY: Duration = Duration::from_secs(3);

/// How a tracked event is identified, which decides what "lost" and "duplicated" mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Dashboard's `widget` events, by their SSE id (ids only grow).
    EventId,
    /// Events whose data carries the publisher's `"seq": N` (the peers number events their own way).
    Seq,
}

/// What all clients of a run share.
pub struct Run {
    pub target: Target,
    pub stats: Stats,
    pub keys: KeySource,
    pub debug: bool,
    pub stop: CancellationToken,
    /// Per client: the newest key received, so the run knows when delivery has caught up.
    pub progress: Vec<Progress>,
}

#[derive(Default)]
pub struct Progress {
    pub last_key: AtomicI64,
    /// Has had its stream open at least once.
    pub connected: AtomicBool,
    /// Has its stream open right now (the churner picks only these).
    pub streaming: AtomicBool,
    pub gave_up: AtomicBool,
    /// Told by the churner to drop its stream and reconnect at once.
    pub churn: Notify,
}

/// How a session ended.
enum Ended {
    /// The client dropped its stream itself, told to churn.
    Churned,
    /// The server or the network ended it, or it never opened.
    Dropped(StreamError),
}

/// What one client saw, for the final report.
pub struct ClientReport {
    pub connected: bool,
    /// Keys of tracked events, in the order they arrived.
    pub received: Received,
}

pub async fn run(run: Arc<Run>, index: usize) -> ClientReport {
    let mut client = Client { parser: Parser::new(), received: Received::new(), retry: DEFAULT_RETRY };
    loop {
        let ended = tokio::select! {
            _ = run.stop.cancelled() => break,
            ended = client.session(&run, index) => ended,
        };
        let ended = match ended {
            Ended::Churned => {
                Stats::add(&run.stats.churned, 1);
                continue;
            }
            Ended::Dropped(error) => error,
        };
        run.stats.error(ended.kind());
        if run.debug {
            eprintln!("client {index}: {ended}");
        }
        if matches!(ended, StreamError::Refused { .. }) {
            run.progress[index].gave_up.store(true, Relaxed);
            break;
        }
        tokio::select! {
            _ = run.stop.cancelled() => break,
            _ = tokio::time::sleep(client.retry) => {}
        }
        Stats::add(&run.stats.reconnects, 1);
    }
    ClientReport { connected: run.progress[index].connected.load(Relaxed), received: client.received }
}

struct Client {
    parser: Parser,
    received: Received,
    retry: Duration,
}

impl Client {
    /// One connection, from open to its end (some kind of error or close, or churn).
    async fn session(&mut self, run: &Run, index: usize) -> Ended {
        let resume = Some(self.parser.last_event_id()).filter(|id| !id.is_empty()).map(<[u8]>::to_vec);
        let mut stream = match http::open(&run.target, index, resume.as_deref()).await {
            Ok(stream) => stream,
            Err(error) => return Ended::Dropped(error),
        };
        let progress = &run.progress[index];
        let _open = OpenStream::new(&run.stats, progress);
        progress.connected.store(true, Relaxed);
        // A new connection starts a new parse; only the last event id carries over.
        let mut parser = Parser::new();
        parser.set_last_event_id(self.parser.last_event_id());
        self.parser = parser;
        let Self { parser, received, retry } = self;
        loop {
            // Dropping a read half-way loses nothing: only a whole event moves the last event id.
            let read = tokio::select! {
                read = stream.read(|body| {
                    Stats::add(&run.stats.bytes, body.len() as u64);
                    parser.feed(body, |item| on_item(run, index, received, retry, item));
                }) => read,
                _ = progress.churn.notified() => return Ended::Churned,
            };
            match read {
                Ok(true) => {}
                Ok(false) => {
                    let detail = "the server ended the stream".into();
                    return Ended::Dropped(StreamError::Network { kind: "stream_ended", detail });
                }
                Err(error) => return Ended::Dropped(error),
            }
        }
    }
}

fn on_item(run: &Run, index: usize, received: &mut Received, retry: &mut Duration, item: Item<'_>) {
    match item {
        Item::Event(event) => {
            Stats::add(&run.stats.events, 1);
            if run.debug {
                eprintln!("client {index}: {}", describe(&event));
            }
            if event.kind == b"reset" {
                run.stats.error("reset");
            }
            track(run, index, received, &event);
        }
        Item::Comment(text) => {
            if text == b"heartbeat" {
                Stats::add(&run.stats.heartbeats, 1);
                if run.debug {
                    eprintln!("client {index}: heartbeat");
                }
            }
        }
        Item::Retry(ms) => *retry = Duration::from_millis(ms),
    }
}

static SENT_AT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"sent_at_us\":"));
static SEQ: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"seq\":"));

/// Records the event's key and, if the publisher stamped it, its delivery latency.
fn track(run: &Run, index: usize, received: &mut Received, event: &Event<'_>) {
    let key = match run.keys {
        KeySource::EventId if event.kind == b"widget" => parse_integer(event.last_event_id),
        KeySource::EventId => None,
        KeySource::Seq => number_after(&SEQ, event.data),
    };
    let Some(key) = key else { return };
    received.push(key);
    run.progress[index].last_key.fetch_max(key, Relaxed);
    if let Some(sent_at) = number_after(&SENT_AT, event.data) {
        let latency = now_micros().saturating_sub(sent_at.max(0) as u64);
        run.stats.record_latency(index, latency);
    }
}

/// The integer following `"key":` in a JSON text, found without parsing the whole document
/// (one search per event instead of a parse per event, for hundreds of thousands a second).
fn number_after(key: &Finder<'_>, json: &[u8]) -> Option<i64> {
    let start = key.find(json)? + key.needle().len();
    let rest = &json[start..];
    let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let len = rest.iter().enumerate().take_while(|(i, b)| b.is_ascii_digit() || (*i == 0 && **b == b'-')).count();
    parse_integer(&rest[..len])
}

fn parse_integer(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

fn describe(event: &Event<'_>) -> String {
    format!(
        "event {} id={} data={}",
        String::from_utf8_lossy(event.kind),
        String::from_utf8_lossy(event.last_event_id),
        String::from_utf8_lossy(event.data)
    )
}

/// Counts a stream as open, in the run's total and in its client's progress, while it lives.
struct OpenStream<'a> {
    stats: &'a Stats,
    progress: &'a Progress,
}

impl<'a> OpenStream<'a> {
    fn new(stats: &'a Stats, progress: &'a Progress) -> Self {
        Stats::add(&stats.open, 1);
        progress.streaming.store(true, Relaxed);
        Self { stats, progress }
    }
}

impl Drop for OpenStream<'_> {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Relaxed);
        self.progress.streaming.store(false, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_found_after_their_key_anywhere_in_the_json() {
        let data = br#"{"id":9,"board":"b","value":{"value":3,"sent_at_us": 1764190000123456,"seq":-4}}"#;
        assert_eq!(number_after(&SENT_AT, data), Some(1_764_190_000_123_456));
        assert_eq!(number_after(&SEQ, data), Some(-4));
        assert_eq!(number_after(&SEQ, br#"{"seq":"x"}"#), None);
        assert_eq!(number_after(&SEQ, br#"{"value":1}"#), None);
    }
}
