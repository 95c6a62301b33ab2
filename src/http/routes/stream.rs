use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use super::boards::board_not_found;
use crate::domain::Slug;
use crate::http::audience::Admitted;
use crate::http::client::client_address;
use crate::http::limits::RateLimited;
use crate::http::{ApiError, ApiResult, AppState};
use crate::realtime::stats::StreamsFull;
use crate::realtime::stream::{self, OpenError, StreamRequest};
use crate::realtime::ticket::StreamTickets;

/// When an address at its stream cap may try again: a slot frees only when one of its own
/// streams ends, which the server cannot foresee, so this is the browser's usual reconnect pace.
const ADDRESS_FULL_RETRY: Duration = Duration::from_secs(5);

#[derive(serde::Deserialize)]
pub struct StreamQuery {
    boards: Option<String>,
    last_event_id: Option<String>,
    /// A stream ticket, for a page on another origin, whose cookies do not come along.
    ticket: Option<String>,
}

pub async fn stream(
    state: web::Data<AppState>,
    req: HttpRequest,
    admitted: Admitted,
    query: web::Query<StreamQuery>,
) -> ApiResult<HttpResponse> {
    let admitted = with_ticket(&state, admitted, query.ticket.as_deref());
    let request = parse_request(&req, &query, admitted)?;
    if let Some(wanted) = &request.boards {
        // Shared with the streams asking for the same boards at the same moment: a crowd of
        // board pages reconnecting at once would otherwise fill the pool with this read.
        let found = state.realtime.visible_boards(&state.db, &request.audience, wanted).await?;
        if let Some(missing) = wanted.iter().find(|b| !found.contains(b)) {
            return Err(ApiError::not_found(board_not_found(missing)()));
        }
    }
    let address = client_address(&req, state.settings.trust_proxy);
    let slot = state.realtime.stats().try_open(address).map_err(|full| match full {
        StreamsFull::Process => {
            ApiError::Unavailable("the stream is full (SSE_MAX_CONNECTIONS); try another instance or later")
        }
        StreamsFull::Address => ApiError::RateLimited(RateLimited {
            message: "this address has as many streams open as SSE_MAX_CONNECTIONS_PER_IP allows; close one first",
            retry_after: ADDRESS_FULL_RETRY,
        }),
    })?;
    let body =
        stream::open(&state.realtime, &state.db, &state.settings.sse, request, slot).await.map_err(|e| match e {
            OpenError::Store(e) => ApiError::from(e),
            OpenError::Newest(e) => ApiError::from(e),
            OpenError::ReplaysFull => {
                ApiError::Unavailable("too many streams are catching up (SSE_MAX_REPLAYS); retry shortly")
            }
        })?;
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .insert_header(header::ContentEncoding::Identity);
    if let Some(origin) = allowed_origin(&state, &req) {
        response.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)).insert_header((header::VARY, "Origin"));
    }
    Ok(response.streaming(body))
}

/// The request's audience and the boards its ticket names. A ticket that is forged, altered or
/// expired counts as no credential at all: its private boards answer 404, as to anybody.
fn with_ticket(state: &AppState, admitted: Admitted, ticket: Option<&str>) -> Admitted {
    let Some(ticket) = ticket else { return admitted };
    let boards = StreamTickets::new(&state.settings.secret_key_base).verify(ticket, Utc::now()).unwrap_or_default();
    Admitted { audience: admitted.audience.and(boards), ..admitted }
}

fn parse_request(req: &HttpRequest, query: &StreamQuery, admitted: Admitted) -> ApiResult<StreamRequest> {
    let boards = match query.boards.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(list) => Some(board_list(list)?),
    };
    let header = match req.headers().get("Last-Event-ID") {
        None => None,
        Some(value) => Some(
            value.to_str().map_err(|_| ApiError::BadRequest("Last-Event-ID must be an event id, not bytes".into()))?,
        ),
    };
    let last_event_id = match header.or(query.last_event_id.as_deref()).map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .filter(|id| *id >= 0)
                .ok_or_else(|| ApiError::BadRequest(format!("Last-Event-ID must be an event id, not {raw:?}")))?,
        ),
    };
    Ok(StreamRequest { boards, last_event_id, audience: admitted.audience, shares: admitted.shares })
}

/// `a,b,a` → `[a, b]`: each board once, since every frame is checked against the list.
fn board_list(list: &str) -> ApiResult<Vec<String>> {
    let mut boards = list
        .split(',')
        .map(|b| Slug::parse(b.trim()).map(|s| s.as_str().to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|rule| ApiError::BadRequest(format!("boards: each board slug {rule}")))?;
    boards.sort_unstable();
    boards.dedup();
    Ok(boards)
}

/// The request's `Origin` when it may read the stream cross-origin (`ALLOWED_ORIGINS`, or the
/// app's own origin by default).
fn allowed_origin(state: &AppState, req: &HttpRequest) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    let origin_str = origin.to_str().ok()?;
    let settings = &state.settings;
    let allowed = if settings.allowed_origins.is_empty() {
        origin_str == settings.own_origin()
    } else {
        settings.allowed_origins.iter().any(|o| o == "*" || o == origin_str)
    };
    allowed.then(|| origin.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_board_is_listed_once() {
        assert_eq!(board_list("ops,web,ops, ops").unwrap(), ["ops", "web"]);
        assert!(board_list("ops,,web").is_err());
    }
}
