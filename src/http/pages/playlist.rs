//! `GET /playlists/{playlist}`: a wall screen showing the playlist's boards one after another.
//! Every board the visitor may see is rendered into the page, each live over one shared stream;
//! `static/js/playlist.js` shows one at a time, so the next is always rendered before its turn.
//! `GET /playlists/{playlist}/ticket`: a fresh stream ticket, as for a board page.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;

use super::PageError;
use super::board::{StreamConfig, ticket_for};
use super::cards::{self, Body, Card};
use super::layout::Layout;
use crate::domain::{Audience, Slug};
use crate::http::audience::audience_of;
use crate::http::{ApiError, ApiResult, AppState};
use crate::store::boards::{self, BoardRow, BoardSnapshot};
use crate::store::playlists::{self, PlaylistRow};
use crate::store::{Db, StoreError};

#[derive(Template, WebTemplate)]
#[template(path = "playlist.html")]
pub struct PlaylistPage {
    layout: Layout,
    playlist: PlaylistRow,
    boards: Vec<ShownBoard>,
    interval_ms: i64,
    /// The oldest of the boards' snapshots: the stream resumes there, and a card skips what it
    /// shows already.
    last_event_id: i64,
    stream: StreamConfig,
    server_now_ms: i64,
}

struct ShownBoard {
    board: BoardRow,
    cards: Vec<Card>,
}

pub async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<Slug>,
) -> Result<PlaylistPage, PageError> {
    let name = path.into_inner();
    let audience = audience_of(&state, &req).await?;
    let (playlist, snapshots) = visible_boards(&state.db, &name, &audience).await.map_err(|e| match e {
        StoreError::NotFound => no_playlist(&name),
        other => other.into(),
    })?;
    let now = Utc::now();
    let mut conn = state.conn().await?;
    let mut boards = Vec::with_capacity(snapshots.len());
    for snapshot in &snapshots {
        boards.push(ShownBoard {
            cards: cards::of_board(&mut conn, snapshot, now).await?,
            board: snapshot.board.clone(),
        });
    }
    let shown: Vec<&BoardRow> = boards.iter().map(|b| &b.board).collect();
    Ok(PlaylistPage {
        layout: Layout::kiosk_from_query(playlist.title.clone(), req.query_string()),
        interval_ms: i64::from(playlist.interval_s) * 1000,
        last_event_id: snapshots.iter().map(|s| s.last_event_id).min().unwrap_or(0),
        stream: StreamConfig::new(&state.settings, &shown, format!("/playlists/{name}/ticket")),
        server_now_ms: now.timestamp_millis(),
        playlist,
        boards,
    })
}

/// `{"ticket": …}` for the playlist's boards the visitor may see; `null` when none is needed.
pub async fn ticket(state: web::Data<AppState>, req: HttpRequest, path: web::Path<Slug>) -> ApiResult<HttpResponse> {
    let name = path.into_inner();
    let audience = audience_of(&state, &req).await?;
    let (_, snapshots) = visible_boards(&state.db, &name, &audience)
        .await
        .map_err(|e| ApiError::from_store(e, || format!("no playlist {name:?}")))?;
    let boards: Vec<&BoardRow> = snapshots.iter().map(|s| &s.board).collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "ticket": ticket_for(&state.settings, &boards) })))
}

/// The playlist and a snapshot of each of its boards `audience` may see, in order; `NotFound`
/// when there is none (a board deleted or hidden since the playlist was read is left out).
async fn visible_boards(
    db: &Db,
    name: &str,
    audience: &Audience,
) -> Result<(PlaylistRow, Vec<BoardSnapshot>), StoreError> {
    let playlist = playlists::find_visible(db, name, audience).await?;
    let mut snapshots = Vec::with_capacity(playlist.boards.len());
    for slug in &playlist.boards {
        match boards::snapshot(db, slug, audience).await {
            Ok(snapshot) => snapshots.push(snapshot),
            Err(StoreError::NotFound) => {}
            Err(other) => return Err(other),
        }
    }
    if snapshots.is_empty() {
        return Err(StoreError::NotFound);
    }
    Ok((playlist, snapshots))
}

fn no_playlist(name: &str) -> PageError {
    PageError::NotFound(format!("There is no playlist called “{name}”."))
}
