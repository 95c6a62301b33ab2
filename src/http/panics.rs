//! A panicking handler answers 500 with the usual error body (the API's JSON, or the error page)
//! and its connection stays open, where the panic would otherwise drop the connection.
//!
//! Three layers, innermost first: actix-web-lab's `PanicReporter` with [`log_panic`], its
//! `CatchPanic`, which turns the panic into an empty 500 error, and [`answer_panics`], which gives
//! that error our body. The answer stays an error rather than a response: after a panic there is
//! no request left to build a response on (and cloning the request ahead would break routing).

use std::any::Any;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::middleware::Next;

use super::ApiError;
use super::pages::{PageError, answers_in_json};

/// What is logged of the panic besides what Rust's panic hook writes to stderr: this line is in
/// the request's span, so it carries the request id.
pub fn log_panic(payload: &(dyn Any + Send)) {
    tracing::error!(panic = panic_message(payload), "a handler panicked");
}

/// The text `panic!` was given (a literal or a formatted string).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

/// Replaces `CatchPanic`'s empty 500 with ours; every other outcome passes as it is.
pub async fn answer_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let in_json = answers_in_json(req.request());
    next.call(req).await.map_err(|error| {
        if error.as_error::<InternalError<&'static str>>().is_none() {
            return error;
        }
        let detail = "a handler panicked".to_string();
        if in_json { ApiError::Internal(detail).into() } else { PageError::Internal(detail).into() }
    })
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;

    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use actix_web_lab::middleware::{CatchPanic, PanicReporter};

    use super::*;
    use crate::config::{AppEnv, EnvSource, Settings};
    use crate::http::pages::security_headers;

    async fn panics() -> HttpResponse {
        panic!("the test handler's panic")
    }

    async fn fine() -> HttpResponse {
        HttpResponse::Ok().body("fine")
    }

    /// One answer, head and body, read to its `content-length`.
    fn read_answer(connection: &mut BufReader<TcpStream>) -> String {
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            assert_ne!(connection.read_line(&mut head).unwrap(), 0, "the server closed the connection after {head:?}");
        }
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .map_or(0, |length| length.parse().unwrap());
        let mut body = vec![0; length];
        connection.read_exact(&mut body).unwrap();
        head + &String::from_utf8(body).unwrap()
    }

    /// Answers of GETs of `paths`, each sent after the previous answer on the same connection,
    /// from a server whose `/dashboard/panic` and `/boards/panic` panic.
    async fn exchange(paths: &[&str]) -> Vec<String> {
        let settings =
            Settings::from_source(AppEnv::Test, &EnvSource::from_pairs(&[("DATABASE_URL", "postgres://h/db")]))
                .unwrap();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(PanicReporter::new(log_panic))
                .wrap(CatchPanic::default())
                .wrap(from_fn(answer_panics))
                .wrap(security_headers(&settings))
                .route("/dashboard/panic", web::get().to(panics))
                .route("/boards/panic", web::get().to(panics))
                .route("/dashboard/fine", web::get().to(fine))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let paths: Vec<String> = paths.iter().map(|path| path.to_string()).collect();
        let answers = actix_web::rt::task::spawn_blocking(move || {
            let mut connection = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
            let ask = |connection: &mut BufReader<TcpStream>, path: &str| {
                write!(connection.get_mut(), "GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n")
                    .unwrap();
                read_answer(connection)
            };
            paths.iter().map(|path| ask(&mut connection, path)).collect()
        })
        .await
        .unwrap();
        handle.stop(true).await;
        answers
    }

    #[actix_web::test]
    async fn a_panicking_handler_answers_500_with_the_error_body_and_keeps_the_connection() {
        let answers = exchange(&["/dashboard/panic", "/boards/panic", "/dashboard/fine"]).await;
        let statuses: Vec<&str> = answers.iter().map(|answer| answer.lines().next().unwrap()).collect();
        assert_eq!(
            statuses,
            ["HTTP/1.1 500 Internal Server Error", "HTTP/1.1 500 Internal Server Error", "HTTP/1.1 200 OK"]
        );
        assert!(
            answers[0].ends_with(r#"{"error":{"code":"internal_error","details":{},"message":"internal error"}}"#),
            "{}",
            answers[0]
        );
        assert!(
            answers[1].contains("Something went wrong on our side."),
            "the page's answer is the error page: {}",
            answers[1]
        );
        assert!(answers[2].ends_with("fine"), "{}", answers[2]);
        assert_eq!(answers.iter().filter(|answer| answer.contains("x-content-type-options: nosniff")).count(), 3);
    }

    #[test]
    fn the_logged_message_is_the_panics_text() {
        let literal = std::panic::catch_unwind(|| panic!("the test panic")).unwrap_err();
        assert_eq!(panic_message(literal.as_ref()), "the test panic");
        let formatted = std::panic::catch_unwind(|| panic!("widget {} failed", 7)).unwrap_err();
        assert_eq!(panic_message(formatted.as_ref()), "widget 7 failed");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(42)).unwrap_err();
        assert_eq!(panic_message(other.as_ref()), "(not a string)");
    }
}
