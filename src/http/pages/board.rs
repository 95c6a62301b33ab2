//! `GET /boards/{board}`: the live board, rendered with every widget's latest value and then
//! kept current by `static/js/board.js` over the stream; and `GET /boards/{board}/ticket`, a fresh
//! stream ticket for a private board's page whose stream is on another origin.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;

use super::cards::{self, Body, Card};
use super::layout::Layout;
use super::{PageError, board_missing};
use crate::config::{Settings, SseServerType};
use crate::domain::Slug;
use crate::domain::Visibility;
use crate::http::audience::audience_of;
use crate::http::{ApiError, ApiResult, AppState};
use crate::realtime::ticket::StreamTickets;
use crate::store::boards::{self, BoardRow};

#[derive(Template, WebTemplate)]
#[template(path = "board.html")]
pub struct BoardPage {
    layout: Layout,
    board: BoardRow,
    cards: Vec<Card>,
    /// The snapshot's newest event id: the stream resumes exactly there.
    last_event_id: i64,
    stream: StreamConfig,
    /// The server's clock, so "… ago" is right even on a screen whose clock is off.
    server_now_ms: i64,
}

/// Where and whether the page connects to the stream (the `SSE_*` settings).
pub(super) struct StreamConfig {
    pub(super) url: String,
    pub(super) auto: bool,
    pub(super) timeout_ms: u128,
    /// How long to wait before reopening a stream the browser gave up on (`SSE_RETRY_INTERVAL`).
    pub(super) retry_ms: u128,
    /// Where the page gets a fresh ticket before it reconnects, when its stream needs one.
    pub(super) ticket_url: Option<String>,
}

impl StreamConfig {
    /// The stream of a page showing `boards`, whose fresh tickets come from `ticket_url`.
    pub(super) fn new(settings: &Settings, boards: &[&BoardRow], ticket_url: String) -> Self {
        let sse = &settings.sse;
        let ticket = ticket_for(settings, boards);
        let url = match (sse.server_type, &ticket) {
            (SseServerType::Inline, _) => "/dashboard/stream".to_string(),
            // Scheme-relative: the stream is reached with the page's own scheme.
            (SseServerType::Separate, None) => format!("//{}:{}{}", sse.host, sse.port, sse.endpoint),
            (SseServerType::Separate, Some(ticket)) => {
                format!("//{}:{}{}?ticket={ticket}", sse.host, sse.port, sse.endpoint)
            }
        };
        Self {
            url,
            ticket_url: ticket.map(|_| ticket_url),
            auto: sse.auto_refresh,
            timeout_ms: sse.connection_timeout.as_millis(),
            retry_ms: sse.retry_interval.as_millis(),
        }
    }
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest, path: web::Path<Slug>) -> Result<BoardPage, PageError> {
    let slug = path.into_inner();
    // A private board the visitor may not see gets the very page of a board that does not exist.
    let audience = audience_of(&state, &req).await?;
    let snapshot = boards::snapshot(&state.db, &slug, &audience).await.map_err(board_missing(&slug))?;
    let now = Utc::now();
    let mut conn = state.conn().await?;
    let cards = cards::of_board(&mut conn, &snapshot, now).await?;
    Ok(BoardPage {
        layout: Layout::from_query(snapshot.board.title.clone(), req.query_string()),
        last_event_id: snapshot.last_event_id,
        stream: StreamConfig::new(&state.settings, &[&snapshot.board], format!("/boards/{slug}/ticket")),
        board: snapshot.board,
        cards,
        server_now_ms: now.timestamp_millis(),
    })
}

/// The ticket a page of `boards` needs for its stream: only for private boards, and only when
/// the stream is on another origin, where the browser does not send this site's cookies. The
/// caller has already been found to see the boards.
pub(super) fn ticket_for(settings: &Settings, boards: &[&BoardRow]) -> Option<String> {
    let private: Vec<String> =
        boards.iter().filter(|b| b.visibility == Visibility::Private).map(|b| b.slug.clone()).collect();
    let needed = settings.sse.server_type == SseServerType::Separate && !private.is_empty();
    needed.then(|| StreamTickets::new(&settings.secret_key_base).issue_now(&private))
}

/// `{"ticket": …}`, fresh, for a page that reconnects after its first ticket expired; `null` when
/// its stream needs none. The same visitors as the page's may have one.
pub async fn ticket(state: web::Data<AppState>, req: HttpRequest, path: web::Path<Slug>) -> ApiResult<HttpResponse> {
    let slug = path.into_inner();
    let audience = audience_of(&state, &req).await?;
    let mut conn = state.conn().await?;
    let board =
        boards::find(&mut conn, &slug).await.map_err(|e| ApiError::from_store(e, || format!("no board {slug:?}")))?;
    if board.visibility == Visibility::Private && !audience.covers(&board.slug) {
        return Err(ApiError::not_found(format!("no board {slug:?}")));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "ticket": ticket_for(&state.settings, &[&board]) })))
}
