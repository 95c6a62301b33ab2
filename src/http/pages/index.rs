//! `GET /`: every board the visitor may see, with its widget count and when it last changed, and
//! the playlists that show them.

use actix_web::{HttpRequest, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;

use super::PageError;
use super::format;
use super::layout::Layout;
use crate::http::AppState;
use crate::http::audience::audience_of;
use crate::store::boards;
use crate::store::playlists::{self, PlaylistRow};

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
pub struct IndexPage {
    layout: Layout,
    boards: Vec<BoardLink>,
    playlists: Vec<PlaylistRow>,
}

struct BoardLink {
    slug: String,
    title: String,
    description: String,
    widget_count: i64,
    /// `(RFC 3339, "3 min ago")` of the newest value on the board.
    updated: Option<(String, String)>,
}

pub async fn show(state: web::Data<AppState>, req: HttpRequest) -> Result<IndexPage, PageError> {
    let now = Utc::now();
    let audience = audience_of(&state, &req).await?;
    let boards = boards::list(&state.db, &audience)
        .await?
        .into_iter()
        .map(|summary| BoardLink {
            updated: summary.last_event_at.map(|at| (format::timestamp(at), format::ago(at, now))),
            slug: summary.board.slug,
            title: summary.board.title,
            description: summary.board.description,
            widget_count: summary.widget_count,
        })
        .collect();
    let playlists = playlists::list(&state.db, &audience).await?;
    Ok(IndexPage { layout: Layout::from_query("Boards", req.query_string()), boards, playlists })
}
