//! Response headers that keep pages from running anything but the app's own files.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;

use crate::config::{Settings, SseServerType};

/// Adds the Content-Security-Policy, `nosniff` and a referrer policy to every response that
/// does not set its own. Scripts, styles and connections are limited to the app's origin, plus
/// the stream's origin when pages stream from a separate `dashboard stream`.
pub fn headers(settings: &Settings) -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, content_security_policy(settings)))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
}

pub fn content_security_policy(settings: &Settings) -> String {
    let connect = match settings.sse.server_type {
        SseServerType::Inline => "'self'".to_string(),
        // A source without a scheme matches the page's own scheme (http or https).
        SseServerType::Separate => format!("'self' {}:{}", settings.sse.host, settings.sse.port),
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    )
}
