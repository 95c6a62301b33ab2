//! Share links: editors of a board make, list and revoke its links under
//! `/dashboard/boards/{board}/shares`, and editors of a playlist (of all its boards) its links
//! under `/dashboard/playlists/{playlist}/shares`.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde_json::json;

use super::boards::board_not_found;
use super::playlists::editable;
use crate::domain::{NewShare, PlaylistSharePath, Role, SharePath, Slug};
use crate::http::auth::Caller;
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState, created};
use crate::store::shares::{self, Target};
use crate::store::{boards, changes};

/// A new link; its secret is in this answer's `url` and nowhere else.
pub async fn create(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let board = path.into_inner();
    caller.require(Role::Editor, Some(&board))?;
    let location = format!("/dashboard/boards/{board}/shares");
    make(&state, &caller, Target::Board(&board), &body, location, board_not_found(&board)).await
}

/// The board's links, revoked and expired ones included; never a secret.
pub async fn list(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
) -> ApiResult<HttpResponse> {
    let board = path.into_inner();
    caller.require(Role::Editor, Some(&board))?;
    boards::find(&mut *state.conn().await?, &board)
        .await
        .map_err(|e| ApiError::from_store(e, board_not_found(&board)))?;
    listing(&state, Target::Board(&board)).await
}

/// Revokes a link: it admits nobody from now on, and the streams it admitted end within seconds.
pub async fn revoke(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<SharePath>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Editor, Some(&path.board))?;
    let missing = || format!("no active share link {} on board {:?}", path.id, path.board);
    revoking(&state, &caller, Target::Board(&path.board), path.id, missing).await
}

/// A new link admitting to the playlist's boards.
pub async fn create_for_playlist(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let playlist = editable(&state, &caller, &path).await?;
    let location = format!("/dashboard/playlists/{}/shares", playlist.name);
    let missing = || format!("no playlist {:?}", playlist.name);
    make(&state, &caller, Target::Playlist(&playlist.name), &body, location, missing).await
}

pub async fn list_for_playlist(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
) -> ApiResult<HttpResponse> {
    let playlist = editable(&state, &caller, &path).await?;
    listing(&state, Target::Playlist(&playlist.name)).await
}

pub async fn revoke_for_playlist(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<PlaylistSharePath>,
) -> ApiResult<HttpResponse> {
    let playlist = editable(&state, &caller, &path.playlist).await?;
    let missing = || format!("no active share link {} on playlist {:?}", path.id, playlist.name);
    revoking(&state, &caller, Target::Playlist(&playlist.name), path.id, missing).await
}

async fn make(
    state: &AppState,
    caller: &Caller,
    target: Target<'_>,
    body: &JsonBody,
    location: String,
    missing: impl FnOnce() -> String,
) -> ApiResult<HttpResponse> {
    let new = NewShare::parse(&body.0, Utc::now())?;
    let (share, secret) = changes::create_share(&mut *state.conn().await?, caller.name(), target, &new)
        .await
        .map_err(|e| ApiError::from_store(e, missing))?;
    let body = json!({
        "id": share.id,
        "name": share.name,
        "url": shares::path_of(&secret),
        "created_at": share.created_at,
        "expires_at": share.expires_at,
    });
    Ok(created(location, &body))
}

async fn listing(state: &AppState, target: Target<'_>) -> ApiResult<HttpResponse> {
    let shares = shares::list(&state.db, Some(target)).await?;
    Ok(HttpResponse::Ok().json(json!({ "shares": shares })))
}

async fn revoking(
    state: &AppState,
    caller: &Caller,
    target: Target<'_>,
    id: i64,
    missing: impl FnOnce() -> String,
) -> ApiResult<HttpResponse> {
    changes::revoke_share(&mut *state.conn().await?, caller.name(), Some(target), id)
        .await
        .map_err(|e| ApiError::from_store(e, missing))?;
    Ok(HttpResponse::NoContent().finish())
}
