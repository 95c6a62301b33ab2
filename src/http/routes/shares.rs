//! `/dashboard/boards/{board}/shares`: editors of a board make, list and revoke its share links.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde_json::json;

use super::boards::board_not_found;
use crate::domain::{NewShare, Role, SharePath, Slug};
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState, created};
use crate::store::{boards, changes, shares};

/// A new link; its secret is in this answer's `url` and nowhere else.
pub async fn create(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let board = path.into_inner();
    caller.require(Role::Editor, Some(&board))?;
    let new = NewShare::parse(&body.0, Utc::now())?;
    let (share, secret) = changes::create_share(&mut *state.conn().await?, caller.name(), &board, &new)
        .await
        .map_err(|e| ApiError::from_store(e, board_not_found(&board)))?;
    let body = json!({
        "id": share.id,
        "name": share.name,
        "url": shares::path_of(&secret),
        "created_at": share.created_at,
        "expires_at": share.expires_at,
    });
    Ok(created(format!("/dashboard/boards/{board}/shares"), &body))
}

/// The board's links, revoked and expired ones included; never a secret.
pub async fn list(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
) -> ApiResult<HttpResponse> {
    let board = path.into_inner();
    caller.require(Role::Editor, Some(&board))?;
    boards::find(&mut *state.conn().await?, &board)
        .await
        .map_err(|e| ApiError::from_store(e, board_not_found(&board)))?;
    let shares = shares::list(&state.db, Some(&board)).await?;
    Ok(HttpResponse::Ok().json(json!({ "shares": shares })))
}

/// Revokes a link: it admits nobody from now on, and the streams it admitted end within seconds.
pub async fn revoke(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<SharePath>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Editor, Some(&path.board))?;
    changes::revoke_share(&mut *state.conn().await?, caller.name(), Some(&path.board), path.id).await.map_err(|e| {
        ApiError::from_store(e, || format!("no active share link {} on board {:?}", path.id, path.board))
    })?;
    Ok(HttpResponse::NoContent().finish())
}
