//! A minimal SSE reader for tests: reads frames (blocks separated by a blank line) off a
//! streaming response.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::Value as Json;

#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub id: Option<i64>,
    pub event: Option<String>,
    pub data: String,
    pub comment: Option<String>,
    pub retry: Option<u64>,
}

impl Frame {
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("frame data is not JSON ({e}): {:?}", self.data))
    }
}

pub struct SseClient {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseClient {
    pub async fn connect(url: &str, last_event_id: Option<i64>) -> Self {
        let mut request = reqwest::Client::new().get(url);
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
            buffer: String::new(),
        }
    }

    /// The next frame, or `None` when the stream ended or nothing came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&block));
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await.ok()??.ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next frame that is an event: not a comment, not a bare `retry:`.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Frame> {
        loop {
            let frame = self.next(wait).await?;
            if frame.event.is_some() || !frame.data.is_empty() {
                return Some(frame);
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

    /// Reads `widget` frames until `count` arrived (or `wait` passed without one); returns their ids.
    pub async fn widget_ids(&mut self, count: usize, wait: Duration) -> Vec<i64> {
        let mut ids = Vec::new();
        while ids.len() < count {
            let Some(frame) = self.next(wait).await else { break };
            if frame.event.as_deref() == Some("widget") {
                ids.push(frame.id.expect("widget frames carry an id"));
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

fn parse(block: &str) -> Frame {
    let mut frame = Frame::default();
    let mut data = Vec::new();
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            frame.comment = Some(comment.trim().to_string());
            continue;
        }
        let (field, value) = line.split_once(':').map_or((line, ""), |(f, v)| (f, v.strip_prefix(' ').unwrap_or(v)));
        match field {
            "id" => frame.id = value.parse().ok(),
            "event" => frame.event = Some(value.to_string()),
            "data" => data.push(value.to_string()),
            "retry" => frame.retry = value.parse().ok(),
            _ => {}
        }
    }
    frame.data = data.join("\n");
    frame
}
