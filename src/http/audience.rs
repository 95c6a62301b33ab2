//! Which boards a read may show, decided once per request from its caller: the API token's
//! (checked by `authenticate_first`), else the signed-in management session's and the share
//! links the browser holds, else nobody's.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use super::auth::Caller;
use super::error::ApiError;
use super::pages::{presented_share_secrets, session_caller};
use super::state::AppState;
use crate::domain::Audience;
use crate::store::{StoreResult, shares};

/// The audience of a request, and the share links it owes boards to: a stream they admitted
/// ends when one of them stops working.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub audience: Audience,
    pub shares: Vec<i64>,
}

/// The audience of `req`. The session and share cookies count for GET and HEAD only: the browser
/// sends them with requests other sites make too, so they must never stand in for a write's
/// credential.
pub async fn audience_of(state: &AppState, req: &HttpRequest) -> StoreResult<Audience> {
    Ok(admitted(state, req).await?.audience)
}

pub async fn admitted(state: &AppState, req: &HttpRequest) -> StoreResult<Admitted> {
    let token_caller = req.extensions().get::<Caller>().map(Caller::audience);
    if let Some(audience) = token_caller {
        return Ok(Admitted { audience, shares: Vec::new() });
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Ok(Admitted { audience: Audience::Public, shares: Vec::new() });
    }
    let signed_in = session_caller(state, req).await?.map_or(Audience::Public, |caller| caller.audience());
    let secrets = presented_share_secrets(req);
    if secrets.is_empty() || signed_in == Audience::Everything {
        return Ok(Admitted { audience: signed_in, shares: Vec::new() });
    }
    // Only links that add a board count: one whose board the session shows anyway ends nothing.
    let adding: Vec<shares::Admission> =
        shares::admissions(&state.db, &secrets).await?.into_iter().filter(|a| !signed_in.covers(&a.board)).collect();
    // A playlist's link admits to each of its boards: one id per link.
    let mut shares: Vec<i64> = adding.iter().map(|a| a.id).collect();
    shares.sort_unstable();
    shares.dedup();
    Ok(Admitted { audience: signed_in.and(adding.into_iter().map(|a| a.board).collect()), shares })
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| ApiError::Internal("application state missing".into()))
}

impl FromRequest for Admitted {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(admitted(&*app_state(&req)?, &req).await?) })
    }
}

impl FromRequest for Audience {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(audience_of(&*app_state(&req)?, &req).await?) })
    }
}
