//! Which boards a read may show, decided once per request from its caller: the API token's
//! (checked by `authenticate_first`), else the signed-in management session's, else nobody's.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use super::auth::Caller;
use super::error::ApiError;
use super::pages::session_caller;
use super::state::AppState;
use crate::domain::Audience;
use crate::store::StoreResult;

/// The audience of `req`. The session cookie counts for GET and HEAD only: the browser sends it
/// with requests other sites make too, so it must never stand in for a write's credential.
pub async fn audience_of(state: &AppState, req: &HttpRequest) -> StoreResult<Audience> {
    let token_caller = req.extensions().get::<Caller>().map(Caller::audience);
    if let Some(audience) = token_caller {
        return Ok(audience);
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Ok(Audience::Public);
    }
    Ok(session_caller(state, req).await?.map_or(Audience::Public, |caller| caller.audience()))
}

impl FromRequest for Audience {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            Ok(audience_of(state, &req).await?)
        })
    }
}
