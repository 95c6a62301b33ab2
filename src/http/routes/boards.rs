use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::domain::Slug;
use crate::domain::{BoardPatch, NewBoard};
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState, created};
use crate::realtime::Realtime;
use crate::store::boards::{self, BoardRow};

pub fn board_not_found(slug: &str) -> impl FnOnce() -> String + '_ {
    move || format!("no board {slug:?}")
}

pub async fn list(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let boards = boards::list(&state.db).await?;
    Ok(HttpResponse::Ok().json(json!({ "boards": boards })))
}

pub async fn show(state: web::Data<AppState>, path: web::Path<Slug>) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    let snapshot =
        boards::snapshot(&state.db, &slug).await.map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    Ok(HttpResponse::Ok().json(snapshot))
}

pub async fn create(state: web::Data<AppState>, _: ApiToken, body: JsonBody) -> ApiResult<HttpResponse> {
    let new = NewBoard::parse(&body.0)?;
    let board = boards::create(&state.db, &new).await?;
    state.realtime.board_changed(&board.slug, "created");
    Ok(created(format!("/dashboard/boards/{}", board.slug), &board))
}

pub async fn update(
    state: web::Data<AppState>,
    _: ApiToken,
    path: web::Path<Slug>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    let patch = BoardPatch::parse(&body.0)?;
    let board =
        boards::update(&state.db, &slug, &patch).await.map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    announce_update(&state.realtime, &slug, &board);
    Ok(HttpResponse::Ok().json(board))
}

/// Tells the board's streams it changed. A new slug is news for the streams of the old one
/// too: the board's events now carry the new slug, which their filter would silently drop.
pub fn announce_update(realtime: &Realtime, old_slug: &str, board: &BoardRow) {
    if board.slug != old_slug {
        realtime.board_changed(old_slug, "renamed");
    }
    realtime.board_changed(&board.slug, "updated");
}

pub async fn delete(state: web::Data<AppState>, _: ApiToken, path: web::Path<Slug>) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    boards::delete(&state.db, &slug).await.map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    state.realtime.board_changed(&slug, "deleted");
    Ok(HttpResponse::NoContent().finish())
}
