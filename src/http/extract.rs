//! Extractors that turn a raw request into checked input: a JSON body within its size limit,
//! and the API token of a write.

use std::convert::Infallible;
use std::future::{Future, Ready, ready};

use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use actix_web_lab::extract::{Json, JsonPayloadError};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;

use super::auth::Caller;
use super::error::ApiError;
use crate::domain::Role;

/// Body limit of single-object requests.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Body limit of `POST /dashboard/events`.
pub const BATCH_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON request body of at most `LIMIT` bytes, parsed but not yet validated.
///
/// actix-web-lab's body-limited `Json` reads it; its failures become the API's errors here.
pub struct JsonBody<const LIMIT: usize = BODY_LIMIT>(pub serde_json::Value);

impl<const LIMIT: usize> FromRequest for JsonBody<LIMIT> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = Json::<serde_json::Value, LIMIT>::from_request(req, payload);
        Box::pin(async move { body.await.map(|Json(value)| JsonBody(value)).map_err(body_error) })
    }
}

fn body_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::Overflow { limit, .. } => ApiError::PayloadTooLarge { limit },
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize { source } => {
            ApiError::BadRequest(format!("malformed JSON: {}", source.source()))
        }
        JsonPayloadError::Payload { source } => ApiError::BadRequest(format!("could not read the body: {source}")),
        other => ApiError::BadRequest(other.to_string()),
    }
}

/// A body of at most `LIMIT` bytes read as JSON whatever its `Content-Type`: Smashing's
/// documented `curl -d` sends JSON as a form. (The lab's `Json` insists on a JSON type, so this
/// one reads the body itself.)
pub struct AnyTypeJsonBody<const LIMIT: usize = BODY_LIMIT>(pub serde_json::Value);

impl<const LIMIT: usize> FromRequest for AnyTypeJsonBody<LIMIT> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_json(req, payload, LIMIT);
        Box::pin(async move { read.await.map(AnyTypeJsonBody) })
    }
}

fn declared_too_large(req: &HttpRequest, limit: usize) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|len| len > limit)
}

/// Reads the body, refusing one larger than `limit` (as declared, or as it arrives), and parses it.
fn read_json(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> impl Future<Output = Result<serde_json::Value, ApiError>> + 'static {
    let declared_too_large = declared_too_large(req, limit);
    let mut payload = payload.take();
    async move {
        if declared_too_large {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
    }
}

/// The caller of a write, authenticated by [`authenticate_first`](super::auth::authenticate_first)
/// before the body was read. Every write takes one.
pub struct ApiToken(pub Caller);

impl FromRequest for ApiToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = req.extensions().get::<Caller>().cloned();
        ready(caller.map(ApiToken).ok_or(ApiError::Unauthorized("send an API token: Authorization: Bearer <token>")))
    }
}

/// Who a read is for: the caller of a request with a valid API token, or nobody (the public;
/// an unknown or revoked token never gets here: it is refused before the handler).
pub struct Viewer(Option<Caller>);

impl Viewer {
    /// Whether this is a management view of the board: one who may edit it sees what the public
    /// does not (a widget's source, the detail of its failures).
    pub fn manages(&self, board: &str) -> bool {
        self.0.as_ref().is_some_and(|caller| caller.require(Role::Editor, Some(board)).is_ok())
    }
}

impl FromRequest for Viewer {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Viewer(req.extensions().get::<Caller>().cloned())))
    }
}

/// The secret of an `Authorization: Bearer <token>` header.
pub(super) fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}
