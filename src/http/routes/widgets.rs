use actix_web::{HttpResponse, web};

use super::boards::board_not_found;
use crate::domain::{Audience, NewWidget, Role, Slug, WidgetPatch};
use crate::http::extract::{ApiToken, JsonBody, Viewer};
use crate::http::{ApiError, ApiResult, AppState, created};
use crate::store::widgets::{self, WidgetRow};
use crate::store::{StoreError, boards, changes};

/// `/dashboard/boards/{board}/widgets/{widget}`: a widget named by its board and key.
#[derive(serde::Deserialize)]
pub struct WidgetPath {
    pub board: Slug,
    pub widget: Slug,
}

impl WidgetPath {
    /// A 404 naming this widget, or the store error as it is.
    pub fn error(&self, error: StoreError) -> ApiError {
        ApiError::from_store(error, || widget_not_found(&self.board, &self.widget))
    }

    pub async fn find(&self, conn: &mut sqlx::PgConnection) -> ApiResult<WidgetRow> {
        widgets::find(conn, &self.board, &self.widget).await.map_err(|e| self.error(e))
    }

    /// 404 when `audience` may not see the board, with the body of a widget that does not exist.
    pub async fn check_visible(&self, conn: &mut sqlx::PgConnection, audience: &Audience) -> ApiResult<()> {
        boards::check_visible(conn, &self.board, audience).await.map_err(|e| self.error(e))
    }
}

pub fn widget_not_found(board: &str, key: &str) -> String {
    format!("no widget {key:?} on board {board:?}")
}

pub async fn show(
    state: web::Data<AppState>,
    viewer: Viewer,
    audience: Audience,
    path: web::Path<WidgetPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.conn().await?;
    path.check_visible(&mut conn, &audience).await?;
    let widget = widgets::find_with_latest(&mut conn, &path.board, &path.widget).await.map_err(|e| path.error(e))?;
    Ok(if viewer.manages(&path.board) {
        HttpResponse::Ok().json(widget.managed_json())
    } else {
        HttpResponse::Ok().json(widget)
    })
}

pub async fn create(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    caller.require(Role::Editor, Some(&slug))?;
    let new = NewWidget::parse(&body.0)?;
    let mut conn = state.conn().await?;
    let board = boards::find(&mut conn, &slug).await.map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    let widget = changes::create_widget(&mut conn, caller.name(), &board, &new)
        .await
        .map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    state.realtime.board_changed(&slug, "widget_created");
    Ok(created(format!("/dashboard/boards/{slug}/widgets/{}", widget.key), &widget.managed_json()))
}

pub async fn update(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<WidgetPath>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Editor, Some(&path.board))?;
    let mut patch = WidgetPatch::parse(&body.0)?;
    let mut conn = state.conn().await?;
    if let Some(config) = &mut patch.config {
        config.keep_source_headers(&path.find(&mut conn).await?.config)?;
    }
    let widget = changes::update_widget(&mut conn, caller.name(), &path.board, &path.widget, &patch)
        .await
        .map_err(|e| path.error(e))?;
    state.realtime.board_changed(&path.board, "widget_updated");
    Ok(HttpResponse::Ok().json(widget.managed_json()))
}

pub async fn delete(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<WidgetPath>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Editor, Some(&path.board))?;
    changes::delete_widget(&mut *state.conn().await?, caller.name(), &path.board, &path.widget)
        .await
        .map_err(|e| path.error(e))?;
    state.realtime.board_changed(&path.board, "widget_deleted");
    Ok(HttpResponse::NoContent().finish())
}
