//! An SSE client for tests: the stream's bytes go through the same standard parser the load
//! tester uses (`dashboard::loadtest::sse`), and each item it reports comes out owned.

use std::collections::VecDeque;
use std::time::Duration;

use dashboard::loadtest::sse::{Item, Parser};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::Value as Json;

/// One item of the stream: an event, a comment or a bare `retry:`.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// The stream's last event id after this event, as a browser would resume from it.
    pub id: Option<i64>,
    pub event: Option<String>,
    pub data: String,
    pub comment: Option<String>,
    pub retry: Option<u64>,
}

impl Message {
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("event data is not JSON ({e}): {:?}", self.data))
    }

    fn from_item(item: Item<'_>) -> Self {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        match item {
            Item::Event(event) => Self {
                id: std::str::from_utf8(event.last_event_id).ok().and_then(|id| id.parse().ok()),
                event: Some(text(event.kind)),
                data: text(event.data),
                ..Self::default()
            },
            Item::Comment(comment) => Self { comment: Some(text(comment)), ..Self::default() },
            Item::Retry(ms) => Self { retry: Some(ms), ..Self::default() },
        }
    }
}

pub struct SseClient {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    parser: Parser,
    received: VecDeque<Message>,
}

impl SseClient {
    pub async fn connect(url: &str, last_event_id: Option<i64>) -> Self {
        let mut request = crate::common::http_client().get(url);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        Self::open(request).await
    }

    /// Opens the stream `request` asks for (with a token or a cookie, say).
    pub async fn open(request: reqwest::RequestBuilder) -> Self {
        let response = request.header("Accept", "text/event-stream").send().await.expect("stream request sent");
        Self {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes_stream().boxed(),
            parser: Parser::new(),
            received: VecDeque::new(),
        }
    }

    /// The next message, or `None` when the stream ended or nothing came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(message) = self.received.pop_front() {
                return Some(message);
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await.ok()??.ok()?;
            let Self { parser, received, .. } = self;
            parser.feed(&chunk, |item| received.push_back(Message::from_item(item)));
        }
    }

    /// The next event: not a comment, not a bare `retry:`.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Message> {
        loop {
            let message = self.next(wait).await?;
            if message.event.is_some() {
                return Some(message);
            }
        }
    }

    /// Whether the server ends the stream within `wait` (frames still in flight are skipped).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Reads `widget` events until `count` arrived (or `wait` passed without one); returns their ids.
    pub async fn widget_ids(&mut self, count: usize, wait: Duration) -> Vec<i64> {
        let mut ids = Vec::new();
        while ids.len() < count {
            let Some(message) = self.next(wait).await else { break };
            if message.event.as_deref() == Some("widget") {
                ids.push(message.id.expect("widget events carry an id"));
            }
        }
        ids
    }
}

/// Compares received ids with the expected ones, reporting the first difference briefly.
pub fn assert_ids(received: &[i64], expected: &[i64]) {
    if received != expected {
        let first =
            received.iter().zip(expected).position(|(r, e)| r != e).unwrap_or(received.len().min(expected.len()));
        panic!(
            "received {} ids, expected {}; first difference at index {first}: {:?} vs {:?}",
            received.len(),
            expected.len(),
            received.get(first..(first + 5).min(received.len())),
            expected.get(first..(first + 5).min(expected.len())),
        );
    }
}
