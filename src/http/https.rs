//! `FORCE_HTTPS`: plain-HTTP requests are sent to HTTPS with a 308, and HTTPS responses carry
//! `Strict-Transport-Security`.
//!
//! Not actix-web-lab's `RedirectHttps` (as of 0.29.5, which has no way to choose the status): it
//! answers 307 (temporary, so clients never learn the
//! https address for good), drops the query string and cannot leave `/health` alone. Its
//! `StrictTransportSecurity` header is used.
//!
//! The scheme is actix's connection info: the socket's (always http, as the app does not speak
//! TLS itself) or `X-Forwarded-Proto`, which [`super::client::drop_untrusted_forwarding`] has
//! removed unless `TRUST_PROXY=true`. So this middleware must run inside that one.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{Header, LOCATION, TryIntoHeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use actix_web_lab::header::StrictTransportSecurity;

use super::{ApiError, AppState};

/// Stays reachable over plain HTTP: platforms' health checks (Railway's among them) and a
/// `curl http://localhost/health` on the box call it without TLS and would not follow a
/// redirect, and it tells nothing worth protecting.
const HEALTH: &str = "/health";
/// A year, for this host name only: the app cannot know what else lives under its domain, so
/// it does not add `includeSubDomains`.
const HSTS_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Whether the request arrived over HTTPS (at this server, or at the trusted proxy in front).
pub fn arrived_over_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

pub async fn force_https(
    state: web::Data<AppState>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !state.settings.force_https || (req.path() == HEALTH && !arrived_over_https(req.request())) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    if arrived_over_https(req.request()) {
        let mut response = next.call(req).await?;
        let Ok(hsts) = StrictTransportSecurity::new(HSTS_MAX_AGE).try_into_value();
        response.headers_mut().insert(StrictTransportSecurity::name(), hsts);
        return Ok(response.map_into_left_body());
    }
    let answer = match https_location(req.request()) {
        Some(location) => HttpResponse::PermanentRedirect().insert_header((LOCATION, location)).finish(),
        None => ApiError::BadRequest("the Host header does not name a host".into()).error_response(),
    };
    Ok(req.into_response(answer).map_into_right_body())
}

/// The same address over HTTPS on its default port: without TLS of its own the app cannot be
/// what answers HTTPS on the port this request came to.
fn https_location(req: &HttpRequest) -> Option<String> {
    let info = req.connection_info();
    let mut url = url::Url::parse(&format!("https://{}", info.host())).ok()?;
    let host_only = url.path() == "/" && url.query().is_none() && url.fragment().is_none() && url.username().is_empty();
    if !host_only || url.set_port(None).is_err() {
        return None;
    }
    url.set_path(req.path());
    url.set_query(req.uri().query());
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn location(host: &str, uri: &str) -> Option<String> {
        https_location(&TestRequest::default().uri(uri).insert_header(("Host", host)).to_http_request())
    }

    #[test]
    fn the_same_address_over_https_without_the_port() {
        assert_eq!(
            location("dash.example.com", "/boards/ops?kiosk=1").as_deref(),
            Some("https://dash.example.com/boards/ops?kiosk=1")
        );
        assert_eq!(location("127.0.0.1:3000", "/").as_deref(), Some("https://127.0.0.1/"));
        assert_eq!(location("[::1]:3000", "/manage").as_deref(), Some("https://[::1]/manage"));
    }

    #[test]
    fn a_host_header_that_is_not_a_host_gets_no_redirect() {
        for host in ["evil.test/path", "a@evil.test", "evil.test?x", "", "bad host"] {
            assert_eq!(location(host, "/"), None, "{host:?}");
        }
    }
}
