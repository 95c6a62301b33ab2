//! `/dashboard/tokens`: admins list, create and revoke API tokens.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::domain::{NewToken, Role};
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState};
use crate::store::changes;
use crate::store::tokens;

/// Every token with its role, boards and times; never a secret or its hash.
pub async fn list(state: web::Data<AppState>, ApiToken(caller): ApiToken) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin, None)?;
    let tokens = tokens::list(&state.db).await?;
    Ok(HttpResponse::Ok().json(json!({ "tokens": tokens })))
}

/// A new token; its secret is in this answer and nowhere else.
pub async fn create(state: web::Data<AppState>, ApiToken(caller): ApiToken, body: JsonBody) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin, None)?;
    let new = NewToken::parse(&body.0)?;
    let mut conn = state.conn().await?;
    let secret = changes::create_token(&mut conn, caller.name(), &new).await?.map_err(ApiError::from)?;
    let boards = new.boards.as_ref().map(|boards| boards.iter().map(|b| b.as_str()).collect::<Vec<_>>());
    Ok(HttpResponse::Created().json(json!({"name": new.name, "role": new.role, "boards": boards, "secret": secret})))
}

/// Revokes a token: its next request, on any instance, is a 401.
pub async fn revoke(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin, None)?;
    changes::revoke_token(&mut *state.conn().await?, caller.name(), &name)
        .await
        .map_err(|e| ApiError::from_store(e, || format!("no active token {name:?}")))?;
    Ok(HttpResponse::NoContent().finish())
}
