//! Who may read `/metrics` and `/dashboard/debug`: they name hosts, jobs and job errors, so
//! with `METRICS_TOKEN` set they need it as a Bearer token, and in production they stay closed
//! until it is set. Outside production, without a token, they are open as for a developer.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use super::extract::bearer;
use crate::config::{AppEnv, Settings};
use crate::store::tokens;

/// Proof that the request may read the operator's endpoints.
pub struct Operator;

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => check(&state.settings, bearer(req).as_deref()).map(|()| Operator),
            None => Err(ApiError::Internal("application state missing".into())),
        })
    }
}

fn check(settings: &Settings, sent: Option<&str>) -> Result<(), ApiError> {
    match (&settings.metrics_token, sent) {
        (None, _) if settings.app_env == AppEnv::Production => {
            Err(ApiError::Unauthorized("closed in production until METRICS_TOKEN is set"))
        }
        (None, _) => Ok(()),
        (Some(_), None) => Err(ApiError::Unauthorized("send METRICS_TOKEN: Authorization: Bearer <token>")),
        // Hashing first makes the comparison's time independent of the lengths too.
        (Some(expected), Some(sent)) if bool::from(tokens::hash(sent).ct_eq(&tokens::hash(expected.expose()))) => {
            Ok(())
        }
        (Some(_), Some(_)) => Err(ApiError::Unauthorized("the METRICS_TOKEN sent is wrong")),
    }
}
