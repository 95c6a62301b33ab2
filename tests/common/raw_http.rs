//! A hand-written HTTP/1.1 client on a raw loopback socket, for what reqwest cannot do: send a
//! body slowly, or send headers and then no body at all.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the server answered, when its first byte came, and whether it then closed the connection.
pub struct Answer {
    pub status: u16,
    pub text: String,
    pub after: Duration,
    pub closed: bool,
}

/// A piece of body sent again and again, once per interval.
pub type Trickle = (Duration, &'static [u8]);

/// One byte every 300 ms of a body with a `Content-Length`.
pub const BYTE_BY_BYTE: Trickle = (Duration::from_millis(300), b"x");
/// One byte every 300 ms, as chunks of a `Transfer-Encoding: chunked` body.
pub const CHUNK_BY_CHUNK: Trickle = (Duration::from_millis(300), b"1\r\nx\r\n");

/// Sends `head` (request line and headers, without the blank line), then trickles the body
/// (`None`: no body byte at all), reading whatever comes back, for at most `limit`.
pub async fn send(port: u16, head: &str, trickle: Option<Trickle>, limit: Duration) -> Answer {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await.expect("connects to the app");
    socket.write_all(format!("{head}\r\n\r\n").as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut first_byte = None;
    let mut closed = false;
    let mut buf = [0u8; 4096];
    let (every, piece) = trickle.unwrap_or((Duration::from_secs(3600), b""));
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    while started.elapsed() < limit {
        tokio::select! {
            read = socket.read(&mut buf) => match read {
                Ok(0) | Err(_) => { closed = true; break; }
                Ok(n) => {
                    first_byte.get_or_insert_with(|| started.elapsed());
                    received.extend_from_slice(&buf[..n]);
                }
            },
            _ = tick.tick(), if trickle.is_some() => { let _ = socket.write_all(piece).await; }
            _ = tokio::time::sleep(limit.saturating_sub(started.elapsed())) => break,
        }
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Answer { status, text, after: first_byte.unwrap_or(limit), closed }
}
