//! The request log: tracing-actix-web's root span, with the client address this app believes.
//!
//! tracing-actix-web's default span takes the client from `connection_info().realip_remote_addr()`,
//! which is the first `X-Forwarded-For` entry: whatever the client wrote there. This span takes
//! it from [`client_address`] instead; the fields it keeps have the default's names.

use std::borrow::Cow;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage, web};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use super::AppState;
use super::client::client_address;

pub struct AccessLog;

impl RootSpanBuilder for AccessLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let trust_proxy = request.app_data::<web::Data<AppState>>().is_some_and(|state| state.settings.trust_proxy);
        let client = client_address(request.request(), trust_proxy).map(|ip| ip.to_string()).unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        let user_agent = request.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
        let target = logged_target(&route, request.uri().path_and_query().map(|p| p.as_str()).unwrap_or(""));
        let connection = request.connection_info();
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.scheme = %connection.scheme(),
            http.host = %connection.host(),
            http.client_ip = %client,
            http.user_agent = %user_agent,
            http.target = %target,
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
            http.latency_ms = Empty,
        );
        drop(connection); // it borrows the request's extensions
        request.extensions_mut().insert(Started(Instant::now()));
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if let Ok(response) = outcome
            && let Some(Started(at)) = response.request().extensions().get::<Started>()
        {
            span.record("http.latency_ms", at.elapsed().as_secs_f64() * 1000.0);
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// When a request came in: its line's `http.latency_ms` is the time until its response began
/// (for a stream, until it opened; the line itself is written when the stream ends).
struct Started(Instant);

/// A share link's address is its credential, which logs must not hold: its route stands in. A
/// stream ticket in a query is one too, for a minute: its value is masked.
fn logged_target<'a>(route: &'a str, target: &'a str) -> Cow<'a, str> {
    if route == "/s/{secret}" {
        return route.into();
    }
    let Some((path, query)) = target.split_once('?') else { return target.into() };
    let is_ticket = |pair: &str| pair.starts_with("ticket=");
    if !query.split('&').any(is_ticket) {
        return target.into();
    }
    let masked: Vec<&str> = query.split('&').map(|pair| if is_ticket(pair) { "ticket=***" } else { pair }).collect();
    format!("{path}?{}", masked.join("&")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_links_secret_is_not_logged() {
        assert_eq!(logged_target("/s/{secret}", "/s/abc123?kiosk=1"), "/s/{secret}");
        assert_eq!(logged_target("/boards/{board}", "/boards/ops?kiosk=1"), "/boards/ops?kiosk=1");
    }

    #[test]
    fn a_stream_tickets_value_is_not_logged() {
        let stream = "/dashboard/stream";
        let target = "/dashboard/stream?boards=ops&ticket=7b22.9f3a&last_event_id=4";
        assert_eq!(logged_target(stream, target), "/dashboard/stream?boards=ops&ticket=***&last_event_id=4");
        assert_eq!(logged_target(stream, "/dashboard/stream?boards=ops"), "/dashboard/stream?boards=ops");
        assert_eq!(logged_target(stream, "/dashboard/stream?ticketless=1"), "/dashboard/stream?ticketless=1");
    }
}
