//! A minimal HTTP/1.1 client for one long GET of an event stream.
//!
//! Why not reqwest or hyper: one process holds up to 19,900 streams while sharing two cores
//! with the server it measures. Here each stream is one task owning one socket and one read
//! buffer, bound to a chosen 127.0.0.x source address (so the 28k ephemeral ports of one
//! source address never run out), with no connection pool, channel or body task in between.
//! HTTP parsing itself is httparse's (response head and chunk sizes); this file only frames.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use url::Url;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEAD: usize = 16 * 1024;
const READ_CHUNK: usize = 8 * 1024;

/// Where the streams go: the URL, resolved once.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    pub addr: SocketAddr,
    /// Source addresses to spread connections over (empty: let the OS choose).
    sources: Vec<IpAddr>,
}

impl Target {
    /// Resolves the URL's host (preferring IPv4); loopback targets get 127.0.0.1–127.0.0.8 as sources.
    pub async fn resolve(url: Url) -> anyhow::Result<Self> {
        let host = url.host_str().ok_or_else(|| anyhow::anyhow!("the URL {url} has no host"))?.to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| anyhow::anyhow!("cannot resolve {host}: {e}"))?
            .collect();
        let addr = addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| anyhow::anyhow!("{host} resolves to no address"))?;
        let sources = match addr.ip() {
            IpAddr::V4(ip) if ip.is_loopback() => (1..=8).map(|n| IpAddr::from([127, 0, 0, n])).collect(),
            _ => Vec::new(),
        };
        Ok(Self { url, addr, sources })
    }

    fn source_for(&self, client: usize) -> Option<IpAddr> {
        (!self.sources.is_empty()).then(|| self.sources[client % self.sources.len()])
    }
}

/// Why a stream could not be opened or ended; the kind names a row of the report's errors.
#[derive(Debug)]
pub enum StreamError {
    /// The server answered, but not with an event stream: retrying would not help.
    Refused { kind: String, detail: String },
    /// The network failed, or the server answered 503: a browser would retry after its
    /// reconnection delay.
    Network { kind: &'static str, detail: String },
}

impl StreamError {
    pub fn kind(&self) -> &str {
        match self {
            Self::Refused { kind, .. } => kind,
            Self::Network { kind, .. } => kind,
        }
    }

    fn network(kind: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Network { kind, detail: error.to_string() }
    }

    fn refused(kind: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Refused { kind: kind.into(), detail: detail.into() }
    }
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused { detail, .. } | Self::Network { detail, .. } => f.write_str(detail),
        }
    }
}

/// An open event stream: the body's bytes, de-chunked.
pub struct EventStream {
    socket: TcpStream,
    buffer: BytesMut,
    framing: Framing,
}

enum Framing {
    /// `Transfer-Encoding: chunked`: bytes left of the current chunk, or `None` before a size line.
    Chunked {
        left: Option<u64>,
    },
    Length(u64),
    UntilClose,
}

/// Opens the stream for client number `client`, resuming after `last_event_id` if given.
pub async fn open(target: &Target, client: usize, last_event_id: Option<&[u8]>) -> Result<EventStream, StreamError> {
    let mut socket = tokio::time::timeout(CONNECT_TIMEOUT, connect(target, client))
        .await
        .map_err(|_| StreamError::network("connect_timeout", format!("no connection to {} within 10 s", target.addr)))?
        .map_err(|e| connect_error(target, e))?;
    socket.write_all(&request(&target.url, last_event_id)).await.map_err(|e| StreamError::network("write_error", e))?;
    let mut buffer = BytesMut::with_capacity(READ_CHUNK);
    let framing = tokio::time::timeout(CONNECT_TIMEOUT, read_head(&mut socket, &mut buffer))
        .await
        .map_err(|_| StreamError::network("response_timeout", "no response head within 10 s"))??;
    Ok(EventStream { socket, buffer, framing })
}

async fn connect(target: &Target, client: usize) -> io::Result<TcpStream> {
    let socket = if target.addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let Some(source) = target.source_for(client) {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = socket.connect(target.addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn connect_error(target: &Target, error: io::Error) -> StreamError {
    let kind = match error.kind() {
        io::ErrorKind::ConnectionRefused => "connect_refused",
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::AddrInUse => "no_local_port",
        _ if error.raw_os_error() == Some(24) => "too_many_open_files",
        _ => "connect_error",
    };
    StreamError::network(kind, format!("cannot connect to {}: {error}", target.addr))
}

fn request(url: &Url, last_event_id: Option<&[u8]>) -> Vec<u8> {
    let host = url.host_str().unwrap_or_default();
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let mut head = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nUser-Agent: dashboard-loadtest/{}\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes();
    if let Some(id) = last_event_id.filter(|id| !id.is_empty()) {
        head.extend_from_slice(b"Last-Event-ID: ");
        head.extend_from_slice(id);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Reads the response head and checks it opens an event stream; the body's first bytes stay in `buffer`.
async fn read_head(socket: &mut TcpStream, buffer: &mut BytesMut) -> Result<Framing, StreamError> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(buffer) {
            Ok(httparse::Status::Complete(len)) => {
                let framing = check_head(&response)?;
                buffer.advance(len);
                return Ok(framing);
            }
            Ok(httparse::Status::Partial) if buffer.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Err(StreamError::refused("bad_response", "response head over 16 KiB"));
            }
            Err(e) => return Err(StreamError::refused("bad_response", format!("not an HTTP response: {e}"))),
        }
        buffer.reserve(READ_CHUNK);
        match socket.read_buf(buffer).await {
            Ok(0) => return Err(StreamError::network("closed_before_response", "the server closed the connection")),
            Ok(_) => {}
            Err(e) => return Err(StreamError::network("read_error", e)),
        }
    }
}

fn check_head(response: &httparse::Response<'_, '_>) -> Result<Framing, StreamError> {
    let status = response.code.unwrap_or(0);
    if status == 503 {
        // "Retry shortly" (the database restarting, the stream full): EventSource alone would
        // give up, but Dashboard's page reopens the stream from its last id, and so does a client.
        let reason = response.reason.unwrap_or("");
        return Err(StreamError::network("http_503", format!("HTTP 503 {reason}")));
    }
    if status != 200 {
        let reason = response.reason.unwrap_or("");
        return Err(StreamError::refused(format!("http_{status}"), format!("HTTP {status} {reason}")));
    }
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    let content_type = header("content-type").unwrap_or_default();
    if !content_type.starts_with("text/event-stream") {
        return Err(StreamError::refused(
            "not_event_stream",
            format!("the response is not an event stream (Content-Type: {content_type:?})"),
        ));
    }
    if header("transfer-encoding").is_some_and(|te| te.ends_with("chunked")) {
        return Ok(Framing::Chunked { left: None });
    }
    match header("content-length").map(|len| len.parse::<u64>()) {
        Some(Ok(len)) => Ok(Framing::Length(len)),
        Some(Err(_)) => Err(StreamError::refused("bad_response", "invalid Content-Length")),
        None => Ok(Framing::UntilClose),
    }
}

impl EventStream {
    /// Reads once and hands the body bytes that completed to `on_body`; `Ok(false)` once the
    /// body has ended.
    pub async fn read(&mut self, mut on_body: impl FnMut(&[u8])) -> Result<bool, StreamError> {
        let mut on_body = |bytes: &[u8]| {
            if !bytes.is_empty() {
                on_body(bytes)
            }
        };
        // The head's read may have brought body bytes along.
        if self.framing.deliver(&mut self.buffer, &mut on_body)? {
            return Ok(false);
        }
        self.buffer.reserve(READ_CHUNK);
        match self.socket.read_buf(&mut self.buffer).await {
            Ok(0) => return Err(StreamError::network("closed_by_server", "the server closed the stream")),
            Ok(_) => {}
            Err(e) => return Err(StreamError::network("read_error", e)),
        }
        Ok(!self.framing.deliver(&mut self.buffer, &mut on_body)?)
    }
}

impl Framing {
    /// Passes on every complete piece of body in `buffer`, consuming it; `true` when the body
    /// has ended.
    fn deliver(&mut self, buffer: &mut BytesMut, on_body: &mut impl FnMut(&[u8])) -> Result<bool, StreamError> {
        loop {
            match self {
                Framing::UntilClose => {
                    on_body(buffer);
                    buffer.clear();
                    return Ok(false);
                }
                Framing::Length(left) => {
                    let n = (*left).min(buffer.len() as u64) as usize;
                    on_body(&buffer[..n]);
                    buffer.advance(n);
                    *left -= n as u64;
                    return Ok(*left == 0);
                }
                Framing::Chunked { left: Some(left) } => {
                    let n = (*left).min(buffer.len() as u64) as usize;
                    on_body(&buffer[..n]);
                    buffer.advance(n);
                    *left -= n as u64;
                    if *left > 0 || buffer.len() < 2 {
                        return Ok(false);
                    }
                    if &buffer[..2] != b"\r\n" {
                        return Err(StreamError::refused("bad_response", "a chunk does not end in CRLF"));
                    }
                    buffer.advance(2);
                    *self = Framing::Chunked { left: None };
                }
                Framing::Chunked { left: None } => match httparse::parse_chunk_size(buffer) {
                    Ok(httparse::Status::Complete((len, 0))) => {
                        buffer.advance(len);
                        return Ok(true);
                    }
                    Ok(httparse::Status::Complete((len, size))) => {
                        buffer.advance(len);
                        *self = Framing::Chunked { left: Some(size) };
                    }
                    Ok(httparse::Status::Partial) => return Ok(false),
                    Err(_) => return Err(StreamError::refused("bad_response", "invalid chunk size line")),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` as separate reads; returns the body bytes and whether the body ended.
    fn decode(mut framing: Framing, pieces: &[&[u8]]) -> Result<(Vec<u8>, bool), StreamError> {
        let (mut buffer, mut body, mut ended) = (BytesMut::new(), Vec::new(), false);
        // Like the client, stop reading once the body has ended.
        for piece in pieces {
            if ended {
                break;
            }
            buffer.extend_from_slice(piece);
            ended = framing.deliver(&mut buffer, &mut |bytes: &[u8]| body.extend_from_slice(bytes))?;
        }
        Ok((body, ended))
    }

    #[test]
    fn chunked_bodies_decode_whatever_the_read_boundaries() {
        let wire: &[u8] = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        for cut in 0..=wire.len() {
            for second in cut..=wire.len() {
                let pieces = [&wire[..cut], &wire[cut..second], &wire[second..]];
                let (body, ended) = decode(Framing::Chunked { left: None }, &pieces).unwrap();
                assert_eq!((body.as_slice(), ended), (&b"hello, world"[..], true), "cuts at {cut}, {second}");
            }
        }
    }

    #[test]
    fn an_open_chunked_stream_has_not_ended() {
        let (body, ended) = decode(Framing::Chunked { left: None }, &[b"3\r\nabc\r\n4\r\nde"]).unwrap();
        assert_eq!((body.as_slice(), ended), (&b"abcde"[..], false));
    }

    #[test]
    fn bad_chunk_framing_is_an_error_not_a_panic() {
        assert!(decode(Framing::Chunked { left: None }, &[b"zz\r\n"]).is_err());
        assert!(decode(Framing::Chunked { left: None }, &[b"2\r\nabXY"]).is_err());
    }

    /// The error `check_head` gives for a response head.
    fn refusal(head: &[u8]) -> StreamError {
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut response = httparse::Response::new(&mut headers);
        response.parse(head).unwrap();
        check_head(&response).err().expect("not an event stream")
    }

    #[test]
    fn a_503_is_retried_and_other_error_statuses_end_the_client() {
        let unavailable = refusal(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n");
        assert!(matches!(unavailable, StreamError::Network { kind: "http_503", .. }), "{unavailable:?}");
        let not_found = refusal(b"HTTP/1.1 404 Not Found\r\n\r\n");
        assert!(matches!(not_found, StreamError::Refused { ref kind, .. } if kind == "http_404"), "{not_found:?}");
    }

    #[test]
    fn length_and_until_close_bodies() {
        assert_eq!(decode(Framing::Length(4), &[b"ab", b"cdEXTRA"]).unwrap(), (b"abcd".to_vec(), true));
        assert_eq!(decode(Framing::UntilClose, &[b"ab", b"cd"]).unwrap(), (b"abcd".to_vec(), false));
    }
}
