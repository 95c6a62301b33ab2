use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use serde_json::json;

use crate::domain::{Audience, BoardPatch, NewBoard, Role, Slug};
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState, created};
use crate::store::{boards, changes};

pub fn board_not_found(slug: &str) -> impl FnOnce() -> String + '_ {
    move || format!("no board {slug:?}")
}

pub async fn list(state: web::Data<AppState>, audience: Audience) -> ApiResult<HttpResponse> {
    let boards = boards::list(&state.db, &audience).await?;
    Ok(HttpResponse::Ok().json(json!({ "boards": boards })))
}

/// The board as `audience` sees it: a private board it may not see is not there (404, as for an
/// unknown board), and `last_event_id` is the newest of the boards it may see.
pub async fn show(state: web::Data<AppState>, audience: Audience, path: web::Path<Slug>) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    let load = async {
        let snapshot = boards::snapshot(&state.db, &slug, &audience)
            .await
            .map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
        serde_json::to_vec(&snapshot).map(Bytes::from).map_err(|e| ApiError::Internal(e.to_string()))
    };
    let json = state.realtime.snapshots().get_or_load(&slug, &audience.cache_key(), load).await?;
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(json))
}

pub async fn create(state: web::Data<AppState>, ApiToken(caller): ApiToken, body: JsonBody) -> ApiResult<HttpResponse> {
    caller.require(Role::Editor, None)?;
    let new = NewBoard::parse(&body.0, state.settings.default_board_visibility)?;
    let board = changes::create_board(&mut *state.conn().await?, caller.name(), &new).await?;
    state.realtime.board_created(&board.slug, board.visibility);
    Ok(created(format!("/dashboard/boards/{}", board.slug), &board))
}

pub async fn update(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    caller.require(Role::Editor, Some(&slug))?;
    let patch = BoardPatch::parse(&body.0)?;
    let board = changes::update_board(&mut *state.conn().await?, caller.name(), &slug, &patch)
        .await
        .map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    state.realtime.board_updated(&slug, &board.slug, board.visibility);
    Ok(HttpResponse::Ok().json(board))
}

pub async fn delete(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    caller.require(Role::Editor, Some(&slug))?;
    changes::delete_board(&mut *state.conn().await?, caller.name(), &slug)
        .await
        .map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    state.realtime.board_changed(&slug, "deleted");
    Ok(HttpResponse::NoContent().finish())
}
