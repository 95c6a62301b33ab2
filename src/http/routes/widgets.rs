use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};

use super::boards::board_not_found;
use crate::domain::Slug;
use crate::domain::{NewWidget, WidgetPatch};
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState};
use crate::store::{boards, widgets};

pub fn widget_not_found<'a>(board: &'a str, key: &'a str) -> impl FnOnce() -> String + 'a {
    move || format!("no widget {key:?} on board {board:?}")
}

pub async fn show(state: web::Data<AppState>, path: web::Path<(Slug, Slug)>) -> ApiResult<HttpResponse> {
    let (board, key) = path.into_inner();
    let mut conn = state.conn().await?;
    let widget = widgets::find_with_latest(&mut conn, &board, &key)
        .await
        .map_err(|e| ApiError::from_store(e, widget_not_found(&board, &key)))?;
    Ok(HttpResponse::Ok().json(widget))
}

pub async fn create(
    state: web::Data<AppState>,
    _: ApiToken,
    path: web::Path<Slug>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    let new = NewWidget::parse(&body.0)?;
    let mut conn = state.conn().await?;
    let board = boards::find(&mut conn, &slug).await.map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    let widget =
        widgets::create(&mut conn, &board, &new).await.map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    state.realtime.board_changed(&slug, "widget_created");
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/dashboard/boards/{slug}/widgets/{}", widget.key)))
        .json(widget))
}

pub async fn update(
    state: web::Data<AppState>,
    _: ApiToken,
    path: web::Path<(Slug, Slug)>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let (board, key) = path.into_inner();
    let patch = WidgetPatch::parse(&body.0)?;
    let mut conn = state.conn().await?;
    let widget = widgets::update(&mut conn, &board, &key, &patch)
        .await
        .map_err(|e| ApiError::from_store(e, widget_not_found(&board, &key)))?;
    state.realtime.board_changed(&board, "widget_updated");
    Ok(HttpResponse::Ok().json(widget))
}

pub async fn delete(state: web::Data<AppState>, _: ApiToken, path: web::Path<(Slug, Slug)>) -> ApiResult<HttpResponse> {
    let (board, key) = path.into_inner();
    let mut conn = state.conn().await?;
    widgets::delete(&mut conn, &board, &key)
        .await
        .map_err(|e| ApiError::from_store(e, widget_not_found(&board, &key)))?;
    state.realtime.board_changed(&board, "widget_deleted");
    Ok(HttpResponse::NoContent().finish())
}
