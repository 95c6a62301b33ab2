//! Credentials are checked before the body is read: a wrong token is a 401 whatever the body.

use std::time::Duration;

use serde_json::Value as Json;

use crate::common::TestApp;
use crate::common::raw_http;

const PUSH: &str = "/dashboard/boards/ops/widgets/t/events";

async fn assert_unauthorized(response: reqwest::Response, case: &str) {
    assert_eq!(response.status(), 401, "{case}");
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"dashboard\"", "{case}");
    let body: Json = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{case}");
}

#[tokio::test]
async fn a_wrong_token_is_401_whatever_the_body() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("t", "text")]).await;
    let cases = [
        ("text/plain", "text/plain", r#"{"text": "hi"}"#),
        ("form encoded", "application/x-www-form-urlencoded", "text=hi"),
        ("malformed json", "application/json", "{\"text\": "),
    ];
    for (case, content_type, body) in cases {
        for auth in ["Bearer dash_wrong", "Basic dXNlcjpwdw=="] {
            let request = app.client.post(app.url(PUSH)).header("authorization", auth);
            let response = request.header("content-type", content_type).body(body).send().await.unwrap();
            assert_unauthorized(response, &format!("{case}, {auth}")).await;
        }
    }
    // Oversized bodies, announced or chunked: the answer comes before any byte of them is sent.
    for path in [PUSH, "/dashboard/events"] {
        for framing in ["Content-Length: 2000000", "Transfer-Encoding: chunked"] {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dash_wrong\r\n\
                 Content-Type: application/json\r\n{framing}"
            );
            let answer = raw_http::send(app.port, &head, None, Duration::from_secs(10)).await;
            assert_eq!(answer.status, 401, "{path} ({framing}): {}", answer.text);
            assert!(answer.text.contains("WWW-Authenticate") || answer.text.contains("www-authenticate"));
        }
    }
    assert_eq!(app.count("events").await, 0);
}

#[tokio::test]
async fn a_read_with_a_wrong_token_is_401_too() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/dashboard")).bearer_auth("dash_wrong").send().await.unwrap();
    assert_unauthorized(response, "GET /dashboard").await;
    assert_eq!(app.client.get(app.url("/dashboard")).bearer_auth(&app.token).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_write_without_a_token_is_401_before_its_body_is_sent() {
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("t", "text")]).await;
    for path in [PUSH, "/dashboard/events"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000"
        );
        // Not one byte of the body is sent: only an answer that does not wait for it arrives.
        let answer = raw_http::send(app.port, &head, None, Duration::from_secs(10)).await;
        assert_eq!(answer.status, 401, "{path}: {}", answer.text);
        assert!(answer.closed, "{path}: the unread body ends the connection");
    }
}
