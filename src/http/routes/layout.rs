//! `PUT /dashboard/boards/{board}/layout`: the layout editor's one save. Moves and resizes the
//! widgets it names in one transaction with one audit entry, then tells the board's open pages,
//! which rearrange. `editor` of the board, as for its widgets; the management page's editor
//! saves through [`save_as`] too.

use actix_web::{HttpResponse, web};
use serde_json::{Value as Json, json};

use super::boards::board_not_found;
use crate::domain::{Layout, Role, Slug};
use crate::http::auth::Caller;
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState};
use crate::store::widgets::WidgetRow;
use crate::store::{boards, changes};

/// A layout naming the most widgets, each with the longest key, is about 110 KB of JSON.
pub const LAYOUT_BODY_LIMIT: usize = 128 * 1024;

pub async fn save(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
    body: JsonBody<LAYOUT_BODY_LIMIT>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(save_as(&state, &caller, &path, &body.0).await?))
}

/// Saves the layout `json` describes on board `slug`, for `caller`; answers with the whole
/// board's layout as it now is, in order.
pub async fn save_as(state: &AppState, caller: &Caller, slug: &str, json: &Json) -> ApiResult<Json> {
    caller.require(Role::Editor, Some(slug))?;
    let layout = Layout::parse(json)?;
    let mut conn = state.conn().await?;
    let board = boards::find(&mut conn, slug).await.map_err(|e| ApiError::from_store(e, board_not_found(slug)))?;
    let saved = changes::save_layout(&mut conn, caller.name(), &board, &layout).await??;
    if saved.changed {
        state.realtime.board_changed(slug, "layout_updated");
    }
    Ok(json!({"board": slug, "widgets": saved.widgets.iter().map(placement_json).collect::<Vec<_>>()}))
}

/// A widget's place as the layout names it: the width as stored, which a board narrower than it
/// shows on all its columns.
fn placement_json(widget: &WidgetRow) -> Json {
    json!({
        "key": widget.key,
        "position": widget.position,
        "width": widget.config.width(),
        "height": widget.config.height(),
    })
}
