//! Load that costs the server memory: values of the largest size, and clients that ask for a
//! response and then never read it.

use std::time::Duration;

use serde_json::{Value as Json, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::TestApp;

/// A text value of about 16 KiB, near the most a value may hold.
pub fn large_value() -> Json {
    json!({"text": "large", "pad": "x".repeat(16_000)})
}

/// Pushes `n` large values to the text widget `board`/`t` in batches; returns their ids in order.
pub async fn push_large(app: &TestApp, board: &str, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    let item = json!({"board": board, "widget": "t", "value": large_value()});
    // 50 values of 16 KiB stay under the 1 MiB body limit of a batch.
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let events = vec![item.clone(); chunk.len()];
        let response = app.post("/dashboard/events", json!({ "events": events })).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
        let body: Json = response.json().await.unwrap();
        ids.extend(body["ids"].as_array().unwrap().iter().map(|id| id.as_i64().unwrap()));
    }
    ids
}

/// Sends `GET path` from a socket with a tiny receive buffer and reads only the status code;
/// the rest of the response stays unread, so the server's writes to it stall. Dropping the
/// socket closes the connection.
pub async fn stalled_get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, TcpStream) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(([127, 0, 0, 1], port).into()).await.unwrap();
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes()).await.unwrap();
    let mut head = [0u8; 12]; // "HTTP/1.1 200"
    tokio::time::timeout(Duration::from_secs(30), stream.read_exact(&mut head))
        .await
        .expect("a status line within 30 s")
        .unwrap();
    let status = std::str::from_utf8(&head[9..]).unwrap().parse().unwrap();
    (status, stream)
}
