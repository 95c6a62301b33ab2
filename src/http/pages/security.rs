//! Response headers that keep pages from running anything but the app's own files, from being
//! shown in other sites' frames (clickjacking), and management pages out of every cache.
//!
//! Whoever sets a response's Content-Security-Policy also decides its X-Frame-Options: the
//! app-wide [`headers`] add the default pair only to responses without a policy of their own,
//! while board pages ([`embeddable`]) and management pages ([`management`]) bring theirs.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use futures_util::future::LocalBoxFuture;

use crate::config::{Settings, SseServerType};

/// Browser features no page of the app uses, so a script that got in cannot use them either.
const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), \
     hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=(), xr-spatial-tracking=()";

/// The app-wide headers, for every response that does not set its own.
pub fn headers(settings: &Settings) -> SecurityHeaders {
    let value = |v: &str| HeaderValue::from_str(v).expect("header values are built from checked settings");
    SecurityHeaders(Rc::new(Policy {
        framing: [
            (header::CONTENT_SECURITY_POLICY, value(&content_security_policy(settings, "'self'"))),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN")),
        ],
        always: [
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
            (HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS_POLICY)),
        ],
    }))
}

/// Board pages, which teams show in their wikis: `FRAME_ANCESTORS` may frame them. Then no
/// X-Frame-Options: it can name no origin but the page's own, and a browser that knows both
/// headers follows `frame-ancestors` anyway.
pub fn embeddable(settings: &Settings) -> DefaultHeaders {
    let ancestors: Vec<&str> =
        std::iter::once("'self'").chain(settings.frame_ancestors.iter().map(String::as_str)).collect();
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, content_security_policy(settings, &ancestors.join(" "))));
    if settings.frame_ancestors.is_empty() { headers.add((header::X_FRAME_OPTIONS, "SAMEORIGIN")) } else { headers }
}

/// Management pages carry CSRF tokens and board settings: never framed, never stored by a
/// browser or proxy (a shared computer's back button must not show them after signing out).
pub fn management(settings: &Settings) -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, content_security_policy(settings, "'none'")))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CACHE_CONTROL, "no-store"))
}

/// Scripts, styles and connections are limited to the app's origin, plus the stream's origin
/// when pages stream from a separate `dashboard stream`.
fn content_security_policy(settings: &Settings, frame_ancestors: &str) -> String {
    let connect = match settings.sse.server_type {
        SseServerType::Inline => "'self'".to_string(),
        // A source without a scheme matches the page's own scheme (http or https).
        SseServerType::Separate => format!("'self' {}:{}", settings.sse.host, settings.sse.port),
    };
    // Image widgets' hosts, without a scheme: an https page loads them over https, an http page
    // over http or https (README.md, IMAGE_HOSTS).
    let images: String = settings.image_hosts.as_slice().iter().map(|host| format!(" {host}")).collect();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{images}; font-src 'self'; \
         connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors {frame_ancestors}"
    )
}

struct Policy {
    /// Content-Security-Policy and X-Frame-Options, added together or not at all.
    framing: [(HeaderName, HeaderValue); 2],
    always: [(HeaderName, HeaderValue); 3],
}

impl Policy {
    fn apply(&self, headers: &mut HeaderMap) {
        let framing = if headers.contains_key(header::CONTENT_SECURITY_POLICY) { &[][..] } else { &self.framing[..] };
        for (name, value) in framing.iter().chain(&self.always) {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
    }
}

/// The middleware of [`headers`].
pub struct SecurityHeaders(Rc<Policy>);

impl<S, B> Transform<S, ServiceRequest> for SecurityHeaders
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = SecurityHeadersService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SecurityHeadersService { service, policy: self.0.clone() }))
    }
}

pub struct SecurityHeadersService<S> {
    service: S,
    policy: Rc<Policy>,
}

impl<S, B> Service<ServiceRequest> for SecurityHeadersService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<ServiceResponse<B>, Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let response = self.service.call(req);
        let policy = self.policy.clone();
        Box::pin(async move {
            match response.await {
                Ok(mut response) => {
                    policy.apply(response.headers_mut());
                    Ok(response)
                }
                // An error left for actix to answer: a handler's panic (see `http::panics`).
                Err(mut error) => {
                    error.add_response_mapper(move |mut answer| {
                        policy.apply(answer.headers_mut());
                        answer
                    });
                    Err(error)
                }
            }
        })
    }
}
