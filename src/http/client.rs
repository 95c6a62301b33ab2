//! Who the client is: its address, and which forwarding headers may speak for it.
//!
//! Any client can send `X-Forwarded-For`, `X-Forwarded-Proto` or `Forwarded`. They mean
//! something only when `TRUST_PROXY=true` says a proxy in front of the app sets them (Heroku's
//! and Railway's routers do).

use std::net::{IpAddr, SocketAddr};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, web};

use super::AppState;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The client's address: the socket's peer or, behind a trusted proxy, the last
/// `X-Forwarded-For` entry. A proxy appends the address it saw to whatever the client sent, so
/// only the last entry is the proxy's word; a last entry that is not an address falls back to
/// the peer. `None` only for a request without a socket (unit tests).
pub fn client_address(req: &HttpRequest, trust_proxy: bool) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|addr| addr.ip());
    if !trust_proxy {
        return peer;
    }
    // Several header lines are one list, in order (RFC 9110 §5.3).
    let last = req.headers().get_all(&X_FORWARDED_FOR).last().and_then(|value| value.to_str().ok());
    last.and_then(|value| value.rsplit(',').next()).and_then(parse_forwarded_address).or(peer)
}

/// `203.0.113.7`, `2001:db8::1`, and the same with a port: `203.0.113.7:4711`, `[2001:db8::1]:4711`.
fn parse_forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

/// Removes the forwarding headers nobody vouches for before anything reads them (actix's
/// `connection_info()` believes `Forwarded` and every `X-Forwarded-*`). Behind a trusted proxy
/// `X-Forwarded-For` and `X-Forwarded-Proto` stay: the proxy sets them. `Forwarded` and
/// `X-Forwarded-Host` always go, as the platforms' routers pass a client's copy through.
pub async fn drop_untrusted_forwarding(
    state: web::Data<AppState>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let headers = req.headers_mut();
    headers.remove(header::FORWARDED);
    headers.remove(X_FORWARDED_HOST);
    if !state.settings.trust_proxy {
        headers.remove(X_FORWARDED_FOR);
        headers.remove(X_FORWARDED_PROTO);
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    const PEER: &str = "127.0.0.1:50000";

    fn address(forwarded_for: &[&str], trust_proxy: bool) -> Option<IpAddr> {
        let mut req = TestRequest::default().peer_addr(PEER.parse().unwrap());
        for value in forwarded_for {
            req = req.append_header(("X-Forwarded-For", *value));
        }
        client_address(&req.to_http_request(), trust_proxy)
    }

    fn ip(raw: &str) -> Option<IpAddr> {
        Some(raw.parse().unwrap())
    }

    #[test]
    fn without_trust_the_peer_is_the_client() {
        assert_eq!(address(&["6.6.6.6"], false), ip("127.0.0.1"));
        assert_eq!(address(&[], false), ip("127.0.0.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_last_entry_is_the_client() {
        assert_eq!(address(&["6.6.6.6"], true), ip("6.6.6.6"));
        assert_eq!(address(&["1.1.1.1, 6.6.6.6"], true), ip("6.6.6.6"));
        assert_eq!(address(&["1.1.1.1,6.6.6.6"], true), ip("6.6.6.6"));
        assert_eq!(address(&["  1.1.1.1 ,   6.6.6.6  "], true), ip("6.6.6.6"));
        // A client's own header line comes first; the proxy's is the last one.
        assert_eq!(address(&["1.1.1.1", "2.2.2.2, 6.6.6.6"], true), ip("6.6.6.6"));
        assert_eq!(address(&["2001:db8::1"], true), ip("2001:db8::1"));
    }

    #[test]
    fn ports_are_dropped() {
        assert_eq!(address(&["6.6.6.6:4711"], true), ip("6.6.6.6"));
        assert_eq!(address(&["[2001:db8::1]:4711"], true), ip("2001:db8::1"));
    }

    #[test]
    fn anything_else_falls_back_to_the_peer() {
        for garbage in ["", "unknown", "6.6.6.6, unknown", "6.6.6.6,", "_hidden", "6.6.6", "[::1", "1.1.1.1 2.2.2.2"] {
            assert_eq!(address(&[garbage], true), ip("127.0.0.1"), "{garbage:?}");
        }
        assert_eq!(address(&[], true), ip("127.0.0.1"));
        // The last line decides even when an earlier one holds an address.
        assert_eq!(address(&["6.6.6.6", "garbage"], true), ip("127.0.0.1"));
    }

    #[test]
    fn a_header_that_is_not_text_falls_back_to_the_peer() {
        let value = header::HeaderValue::from_bytes(b"6.6.6.6\xff").unwrap();
        let req = TestRequest::default().peer_addr(PEER.parse().unwrap()).insert_header(("X-Forwarded-For", value));
        assert_eq!(client_address(&req.to_http_request(), true), ip("127.0.0.1"));
    }
}
