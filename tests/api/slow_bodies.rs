//! A body trickled byte by byte cannot hold a connection: past `BODY_READ_TIMEOUT` the request
//! is a 408 and the connection is closed.

use std::time::Duration;

use crate::common::TestApp;
use crate::common::raw_http::{self, BYTE_BY_BYTE, CHUNK_BY_CHUNK};

#[tokio::test]
async fn a_trickled_body_is_408_and_the_connection_closes() {
    let app = TestApp::spawn_with(&[("BODY_READ_TIMEOUT", "1")]).await;
    app.create_board("ops", &[("t", "text")]).await;
    let cases = [
        ("/dashboard/boards/ops/widgets/t/events", "Content-Length: 100", BYTE_BY_BYTE),
        ("/dashboard/events", "Content-Length: 100", BYTE_BY_BYTE),
        ("/dashboard/boards", "Content-Length: 100", BYTE_BY_BYTE),
        ("/dashboard/boards", "Transfer-Encoding: chunked", CHUNK_BY_CHUNK),
    ];
    for (path, framing, trickle) in cases {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\n{framing}",
            app.token
        );
        // Sending 100 bytes would take 30 s; a chunked body never ends.
        let answer = raw_http::send(app.port, &head, Some(trickle), Duration::from_secs(15)).await;
        let path = format!("{path} ({framing})");
        assert_eq!(answer.status, 408, "{path}: {}", answer.text);
        assert!(answer.text.contains(r#""code":"request_timeout""#), "{path}: {}", answer.text);
        assert!(answer.after < Duration::from_secs(6), "{path}: answered after {:?}", answer.after);
        assert!(answer.closed, "{path}: the connection is closed");
    }
    assert_eq!(app.count("events").await, 0);
    assert_eq!(app.count("boards").await, 1);
}

#[tokio::test]
async fn a_trickled_body_the_route_does_not_read_does_not_hold_the_connection() {
    let app = TestApp::spawn_with(&[("BODY_READ_TIMEOUT", "1")]).await;
    let head = "GET /dashboard HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked";
    let answer = raw_http::send(app.port, head, Some(CHUNK_BY_CHUNK), Duration::from_secs(15)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer.closed, "the connection is closed rather than drained");
}
