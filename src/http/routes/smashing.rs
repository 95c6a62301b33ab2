//! The Smashing push API (`docs/smashing.md`): what Smashing and Dashing jobs send, answered as
//! Smashing answers. A value goes the way of any push: parsed per kind, written by the same
//! writer, announced on the same stream.
//!
//! These routes are outside `/dashboard`, so [`authenticate_first`](crate::http::auth) does not
//! see them: the token may be in the body (`auth_token`), so the body is read first (within the
//! batch body limit and the read deadline every request has), then the token is checked as the
//! middleware checks it, before anything about widgets or boards is looked up or told.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::boards::board_not_found;
use super::events::spend_push_budget;
use super::widgets::widget_not_found;
use crate::domain::smashing::{self, key_of_id};
use crate::domain::{Role, Slug, ValidationErrors, Value, WidgetKind};
use crate::http::auth::{self, Caller, Presented};
use crate::http::extract::{AnyTypeJsonBody, BATCH_BODY_LIMIT, BODY_LIMIT};
use crate::http::{ApiError, ApiResult, AppState};
use crate::store::events::{self, EventRow, NewEvent};
use crate::store::widgets::{self, WidgetRow};
use crate::store::{StoreError, boards};

/// `POST /widgets/{id}`: a `send_event` body for the widget of key `id`, on the boards the token
/// may push to (or on `SMASHING_BOARD` alone). 204, as Smashing answers.
pub async fn push(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: AnyTypeJsonBody<BATCH_BODY_LIMIT>,
) -> ApiResult<HttpResponse> {
    let (caller, body) = authenticate(&state, &req, body.0).await?;
    let search = boards_to_search(&state, &caller)?;
    let key = key_of_id(&id).ok_or_else(|| no_widget(&id, search.as_deref()))?;
    let mut conn = state.conn().await?;
    let widget = find_widget(&mut conn, &key, search.as_deref()).await?;
    let newest = match widget.kind {
        WidgetKind::Line => newest_point(&mut conn, &widget).await?,
        _ => None,
    };
    drop(conn);
    let values = smashing::values(widget.kind, body, newest)?;
    for value in &values {
        value.check_image_host(&state.settings.image_hosts)?;
    }
    spend_push_budget(&state, &caller, values.len())?;
    let written = write(&state, widget, values).await?;
    state.realtime.events_committed(&written);
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /dashboards/{board}` with `{"event": "reload"}`: every open page of the board reloads.
/// A push token limited to the board may: Smashing scripts have one token for everything.
pub async fn reload(
    state: web::Data<AppState>,
    req: HttpRequest,
    board: web::Path<String>,
    body: AnyTypeJsonBody<BODY_LIMIT>,
) -> ApiResult<HttpResponse> {
    let (caller, body) = authenticate(&state, &req, body.0).await?;
    let slug = key_of_id(&board).ok_or_else(|| ApiError::not_found(board_not_found(&board)()))?;
    caller.require(Role::Push, Some(&slug))?;
    if body.get("event").and_then(Json::as_str) != Some("reload") {
        return Err(ValidationErrors::single("event", "must be \"reload\", the one dashboard event there is").into());
    }
    let mut conn = state.conn().await?;
    boards::find(&mut conn, &slug).await.map_err(|e| ApiError::from_store(e, board_not_found(&slug)))?;
    state.realtime.board_changed(&slug, "reload");
    Ok(HttpResponse::NoContent().finish())
}

/// The caller, from `auth_token` in the body or else the Bearer header, and the body without it.
async fn authenticate(state: &AppState, req: &HttpRequest, body: Json) -> ApiResult<(Caller, Map<String, Json>)> {
    let Json::Object(mut body) = body else {
        return Err(ApiError::BadRequest("the body must be a JSON object".into()));
    };
    let presented = match body.remove("auth_token") {
        Some(Json::String(secret)) => Presented::Secret(secret),
        Some(_) => Presented::Malformed,
        None => auth::presented_secret(req),
    };
    Ok((auth::check_credential(state, req, presented).await?, body))
}

/// The boards a widget is looked for on: `SMASHING_BOARD`, or those the caller may push to
/// (`None`: every board). A caller that may push to none of them is refused.
fn boards_to_search(state: &AppState, caller: &Caller) -> ApiResult<Option<Vec<String>>> {
    match &state.settings.smashing_board {
        Some(board) => {
            caller.require(Role::Push, Some(board))?;
            Ok(Some(vec![board.to_string()]))
        }
        None => {
            caller.require_role(Role::Push)?;
            Ok(caller.boards().map(<[String]>::to_vec))
        }
    }
}

/// The one widget of `key` on `search`: 404 when there is none, 409 naming the boards of several.
async fn find_widget(conn: &mut sqlx::PgConnection, key: &Slug, search: Option<&[String]>) -> ApiResult<WidgetRow> {
    let mut found = widgets::find_by_key(conn, key, search).await?;
    match found.len() {
        0 => Err(no_widget(key, search)),
        1 => Ok(found.remove(0)),
        _ => Err(ApiError::AmbiguousWidget {
            key: key.to_string(),
            boards: found.into_iter().map(|w| w.board).collect(),
        }),
    }
}

fn no_widget(key: &str, search: Option<&[String]>) -> ApiError {
    match search {
        Some([board]) => ApiError::not_found(widget_not_found(board, key)),
        _ => ApiError::not_found(format!("no widget {key:?} on the boards this token may push to")),
    }
}

/// The time of the widget's newest point: its `at`, or when it was pushed.
async fn newest_point(conn: &mut sqlx::PgConnection, widget: &WidgetRow) -> ApiResult<Option<DateTime<Utc>>> {
    let latest = events::latest_of_widget(conn, widget.id).await?;
    Ok(latest.map(|event| {
        let at = event.value.0.get("at").and_then(Json::as_str).and_then(|at| DateTime::parse_from_rfc3339(at).ok());
        at.map_or(event.created_at, |at| at.with_timezone(&Utc))
    }))
}

/// Writes as the push API does: one value through the group-committing writer, several (a
/// graph's new points) in one transaction as a batch is.
async fn write(state: &AppState, widget: WidgetRow, values: Vec<Value>) -> ApiResult<Vec<EventRow>> {
    let missing =
        |e: StoreError, widget: &WidgetRow| ApiError::from_store(e, || widget_not_found(&widget.board, &widget.key));
    match <[Value; 1]>::try_from(values) {
        Ok([value]) => {
            let event = state.event_writer.push(widget.clone(), value).await.map_err(|e| missing(e, &widget))?;
            Ok(vec![event])
        }
        Err(values) if values.is_empty() => Ok(Vec::new()),
        Err(values) => {
            let new = values.into_iter().map(|value| NewEvent { widget: &widget, value }).collect();
            let mut conn = state.conn().await?;
            events::insert(&mut conn, new).await.map_err(|e| missing(e, &widget))
        }
    }
}
