//! `GET /boards/{board}`: the live board, rendered with every widget's latest value and then
//! kept current by `static/js/board.js` over the stream.

use actix_web::{HttpRequest, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;

use super::cards::{self, Body, Card};
use super::layout::Layout;
use super::{PageError, board_missing};
use crate::config::{Settings, SseServerType};
use crate::domain::Slug;
use crate::http::AppState;
use crate::http::audience::audience_of;
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
struct StreamConfig {
    url: String,
    auto: bool,
    timeout_ms: u128,
    /// How long to wait before reopening a stream the browser gave up on (`SSE_RETRY_INTERVAL`).
    retry_ms: u128,
}

impl StreamConfig {
    fn new(settings: &Settings) -> Self {
        let sse = &settings.sse;
        let url = match sse.server_type {
            SseServerType::Inline => "/dashboard/stream".to_string(),
            // Scheme-relative: the stream is reached with the page's own scheme.
            SseServerType::Separate => format!("//{}:{}{}", sse.host, sse.port, sse.endpoint),
        };
        Self {
            url,
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
        board: snapshot.board,
        cards,
        stream: StreamConfig::new(&state.settings),
        server_now_ms: now.timestamp_millis(),
    })
}
