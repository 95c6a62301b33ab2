//! A body trickled byte by byte cannot hold a connection: past `BODY_READ_TIMEOUT` the request
//! is a 408 and the connection is closed.

use std::time::Duration;

use crate::common::TestApp;
use crate::common::raw_http;

#[tokio::test]
async fn a_trickled_body_is_408_and_the_connection_closes() {
    let app = TestApp::spawn_with(&[("BODY_READ_TIMEOUT", "1")]).await;
    app.create_board("ops", &[("t", "text")]).await;
    for path in ["/dashboard/boards/ops/widgets/t/events", "/dashboard/events", "/dashboard/boards"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 100",
            app.token
        );
        // Sending all 100 bytes would take 30 s.
        let answer = raw_http::send(app.port, &head, Some(Duration::from_millis(300)), Duration::from_secs(15)).await;
        assert_eq!(answer.status, 408, "{path}: {}", answer.text);
        assert!(answer.text.contains(r#""code":"request_timeout""#), "{path}: {}", answer.text);
        assert!(answer.after < Duration::from_secs(6), "{path}: answered after {:?}", answer.after);
        assert!(answer.closed, "{path}: the connection is closed");
    }
    assert_eq!(app.count("events").await, 0);
    assert_eq!(app.count("boards").await, 1);
}
