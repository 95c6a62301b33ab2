use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use serde_json::{Value as Json, json};

use super::widgets::{WidgetPath, widget_not_found};
use crate::domain::{Audience, ImageHosts, MAX_BATCH, Role, Slug, ValidationErrors, Value};
use crate::http::auth::Caller;
use crate::http::extract::{ApiToken, BATCH_BODY_LIMIT, JsonBody};
use crate::http::permit_body::PermitBody;
use crate::http::{ApiError, ApiResult, AppState};
use crate::store::events::{self, EventRow, NewEvent, PageBound};
use crate::store::widgets::{self, WidgetRow};

/// What a batch item that is not `{"board", "widget", "value"}` is told.
const BATCH_ITEM: &str = "needs \"board\" and \"widget\" strings and a \"value\" object";
const DEFAULT_HISTORY: i64 = 100;
const MAX_HISTORY: i64 = 1000;

pub async fn push(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<WidgetPath>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Push, Some(&path.board))?;
    spend_push_budget(&state, &caller, 1)?;
    let lookup = async { path.find(&mut *state.conn().await?).await };
    let widget = state.realtime.widgets().get_or_load(&path.board, &path.widget, lookup).await?;
    let value = Value::parse(widget.kind, body.0)?;
    value.check_image_host(&state.settings.image_hosts)?;
    let event = state.event_writer.push(widget, value).await.map_err(|e| path.error(e))?;
    state.realtime.events_committed(std::slice::from_ref(&event));
    Ok(HttpResponse::Created().json(&event))
}

/// `PUSH_RATE_LIMIT`, checked before anything is looked up or written.
pub(super) fn spend_push_budget(state: &AppState, caller: &Caller, events: usize) -> ApiResult<()> {
    state.limits.pushes.as_ref().map_or(Ok(()), |budget| budget.spend(caller, events))
}

/// One item of a batch before its widget is known.
struct BatchItem {
    board: Slug,
    widget: Slug,
    value: Json,
}

pub async fn push_batch(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    body: JsonBody<BATCH_BODY_LIMIT>,
) -> ApiResult<HttpResponse> {
    let items = parse_batch(body.0)?;
    require_every_board(&caller, &items)?;
    spend_push_budget(&state, &caller, items.len())?;
    let mut conn = state.conn().await?;
    let pairs: Vec<(String, String)> = items.iter().map(|i| (i.board.to_string(), i.widget.to_string())).collect();
    let found = widgets::find_many(&mut conn, &pairs).await?;
    let new = resolve_batch(items, &found, &state.settings.image_hosts)?;
    let inserted = events::insert(&mut conn, new).await?;
    state.realtime.events_committed(&inserted);
    let ids: Vec<i64> = inserted.iter().map(|e| e.id).collect();
    Ok(HttpResponse::Created().json(json!({ "ids": ids })))
}

fn parse_batch(body: Json) -> Result<Vec<BatchItem>, ApiError> {
    let events = match body {
        Json::Object(mut body) => body.remove("events"),
        _ => None,
    };
    let Some(Json::Array(raw)) = events else {
        return Err(ValidationErrors::single("events", "must be a list of {\"board\", \"widget\", \"value\"}").into());
    };
    if raw.is_empty() || raw.len() > MAX_BATCH {
        return Err(ValidationErrors::single("events", format!("must hold 1 to {MAX_BATCH} events")).into());
    }
    let mut errors = ValidationErrors::default();
    let mut items = Vec::with_capacity(raw.len());
    for (i, item) in raw.into_iter().enumerate() {
        match batch_item(item) {
            Ok(item) => items.push(item),
            Err(message) => errors.add(format!("events[{i}]"), message),
        }
    }
    errors.into_result(items).map_err(ApiError::from)
}

/// A batch is all or nothing, so one item on a board the caller may not push to refuses it all,
/// naming the first such item. A 403, not a 422: the body is well formed, the caller lacks the
/// right. Checked before any widget is looked up, so the answer tells nothing about the widgets
/// of boards the caller may not act on.
fn require_every_board(caller: &Caller, items: &[BatchItem]) -> ApiResult<()> {
    items.iter().enumerate().try_for_each(|(i, item)| {
        caller.require(Role::Push, Some(&item.board)).map_err(|error| match error {
            ApiError::Forbidden { message, role, needs } => {
                ApiError::Forbidden { message: format!("events[{i}]: {message}"), role, needs }
            }
            other => other,
        })
    })
}

/// One `{"board", "widget", "value"}`; names that break the slug rule cannot name a widget.
fn batch_item(item: Json) -> Result<BatchItem, String> {
    let Json::Object(mut item) = item else { return Err(BATCH_ITEM.into()) };
    let (Some(Json::String(board)), Some(Json::String(widget)), Some(value)) =
        (item.remove("board"), item.remove("widget"), item.remove("value"))
    else {
        return Err(BATCH_ITEM.into());
    };
    let slug = |name: &str, raw: &str| Slug::parse(raw).map_err(|rule| format!("\"{name}\" {rule}"));
    Ok(BatchItem { board: slug("board", &board)?, widget: slug("widget", &widget)?, value })
}

/// Pairs each item with its widget and checks its value; any failure fails the whole batch.
fn resolve_batch<'a>(
    items: Vec<BatchItem>,
    found: &'a [WidgetRow],
    image_hosts: &ImageHosts,
) -> Result<Vec<NewEvent<'a>>, ApiError> {
    let mut errors = ValidationErrors::default();
    let mut new = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Some(widget) = found.iter().find(|w| w.board == *item.board && w.key == *item.widget) else {
            errors.add(format!("events[{i}]"), widget_not_found(&item.board, &item.widget));
            continue;
        };
        match Value::parse(widget.kind, item.value).and_then(|v| v.check_image_host(image_hosts).map(|()| v)) {
            Ok(value) => new.push(NewEvent { widget, value }),
            Err(e) => errors.merge(e.nested(&format!("events[{i}].value."))),
        }
    }
    errors.into_result(new).map_err(ApiError::from)
}

#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// One page of history; `next_after` (the last id) only when more events follow, so a page cut
/// short by `HISTORY_MAX_BYTES` is told apart from the end.
#[derive(serde::Serialize)]
struct HistoryPage<'a> {
    events: &'a [EventRow],
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<i64>,
}

pub async fn history(
    state: web::Data<AppState>,
    audience: Audience,
    path: web::Path<WidgetPath>,
    query: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let permit = state
        .history_reads
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Unavailable("too many history reads at once (HISTORY_MAX_READS); retry shortly"))?;
    let mut conn = state.conn().await?;
    path.check_visible(&mut conn, &audience).await?;
    let widget = path.find(&mut conn).await?;
    let rows = query.limit.unwrap_or(DEFAULT_HISTORY).clamp(1, MAX_HISTORY);
    let bound = PageBound { rows, bytes: state.settings.history.max_bytes };
    let page = events::history(&mut conn, widget.id, query.after.unwrap_or(0), bound).await?;
    // From the last row read, so a row that could not be decoded is paged past, not stopped at.
    let next_after = match page.last_read {
        Some(last) if events::widget_has_events_after(&mut conn, widget.id, last).await? => Some(last),
        _ => None,
    };
    let events = page.events;
    drop(conn);
    let body = serde_json::to_vec(&HistoryPage { events: &events, next_after })
        .map_err(|e| ApiError::Internal(format!("history did not serialize: {e}")))?;
    Ok(HttpResponse::Ok().insert_header(ContentType::json()).body(PermitBody::new(body.into(), permit)))
}
