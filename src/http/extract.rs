//! Extractors that turn a raw request into checked input: a JSON body within its size limit,
//! and the API token of a write.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest, dev::Payload, mime, web};
use futures_util::StreamExt;

use super::error::ApiError;
use super::state::AppState;
use crate::store::tokens;

/// Body limit of single-object requests (SPEC §5).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Body limit of `POST /dashboard/events`.
pub const BATCH_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON request body of at most `LIMIT` bytes, parsed but not yet validated.
pub struct JsonBody<const LIMIT: usize = BODY_LIMIT>(pub serde_json::Value);

impl<const LIMIT: usize> FromRequest for JsonBody<LIMIT> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let declared_too_large = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .is_some_and(|len| len > LIMIT);
        let mut payload = payload.take();
        Box::pin(async move {
            if declared_too_large {
                return Err(ApiError::PayloadTooLarge { limit: LIMIT });
            }
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
                if body.len() + chunk.len() > LIMIT {
                    return Err(ApiError::PayloadTooLarge { limit: LIMIT });
                }
                body.extend_from_slice(&chunk);
            }
            serde_json::from_slice(&body)
                .map(JsonBody)
                .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
        })
    }
}

/// Proof that the request carried a valid, unrevoked API token. Every write takes one.
pub struct ApiToken;

impl FromRequest for ApiToken {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let secret = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let secret = secret.ok_or(ApiError::Unauthorized("send an API token: Authorization: Bearer <token>"))?;
            let name = authenticate(&state, &secret).await?;
            tracing::debug!(token = %name, "authenticated write");
            Ok(ApiToken)
        })
    }
}

/// Who a read is for. A request with a valid API token is a management view: it sees what the
/// public does not (a widget's source, the detail of its failures). Without a token it is
/// public; with an unknown or revoked one it is refused, as a write would be, so that a
/// mistake is told rather than silently answered with less.
pub enum Viewer {
    Public,
    Manager,
}

impl FromRequest for Viewer {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().get(AUTHORIZATION).is_none() {
            return Box::pin(async { Ok(Viewer::Public) });
        }
        let token = ApiToken::from_request(req, payload);
        Box::pin(async move { token.await.map(|ApiToken| Viewer::Manager) })
    }
}

/// The name a request authenticated with `DASHBOARD_API_TOKEN` goes by.
pub const BOOTSTRAP_TOKEN_NAME: &str = "DASHBOARD_API_TOKEN";

/// The name of the live token whose secret this is.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<String, ApiError> {
    if let Some(bootstrap) = &state.settings.bootstrap_token
        && tokens::matches_bootstrap(secret, bootstrap.expose())
    {
        return Ok(BOOTSTRAP_TOKEN_NAME.into());
    }
    tokens::authenticate(&state.db, secret).await?.ok_or(ApiError::Unauthorized("the API token is unknown or revoked"))
}

pub(super) fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}
