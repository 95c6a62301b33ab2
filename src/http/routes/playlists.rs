//! `/dashboard/playlists`: boards shown one after another on a wall screen. Editors change them
//! (a token limited to boards only playlists all of whose boards are its own); everyone reads
//! those with a board they may see, each showing only such boards (see `store::playlists`).

use actix_web::{HttpResponse, web};
use serde_json::{Value as Json, json};

use crate::domain::{Audience, NewPlaylist, PlaylistPatch, Role, Slug};
use crate::http::auth::Caller;
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState, created};
use crate::store::playlists::{self, PlaylistRow};
use crate::store::{StoreError, changes};

fn playlist_not_found(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("no playlist {name:?}")
}

pub async fn list(state: web::Data<AppState>, audience: Audience) -> ApiResult<HttpResponse> {
    let playlists = playlists::list(&state.db, &audience).await?;
    Ok(HttpResponse::Ok().json(json!({ "playlists": playlists })))
}

pub async fn show(state: web::Data<AppState>, audience: Audience, path: web::Path<Slug>) -> ApiResult<HttpResponse> {
    let playlist = playlists::find_visible(&state.db, &path, &audience)
        .await
        .map_err(|e| ApiError::from_store(e, playlist_not_found(&path)))?;
    Ok(HttpResponse::Ok().json(playlist))
}

pub async fn create(state: web::Data<AppState>, ApiToken(caller): ApiToken, body: JsonBody) -> ApiResult<HttpResponse> {
    let playlist = create_as(&state, &caller, &body.0).await?;
    Ok(created(format!("/dashboard/playlists/{}", playlist.name), &playlist))
}

pub async fn update(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(update_as(&state, &caller, &path, &body.0).await?))
}

pub async fn delete(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    path: web::Path<Slug>,
) -> ApiResult<HttpResponse> {
    delete_as(&state, &caller, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates the playlist `json` describes, for `caller`: the API and the management forms.
pub async fn create_as(state: &AppState, caller: &Caller, json: &Json) -> ApiResult<PlaylistRow> {
    caller.require_role(Role::Editor)?;
    let new = NewPlaylist::parse(json)?;
    caller.require_all(Role::Editor, &new.boards)?;
    Ok(changes::create_playlist(&mut *state.conn().await?, caller.name(), &new).await??)
}

pub async fn update_as(state: &AppState, caller: &Caller, name: &str, json: &Json) -> ApiResult<PlaylistRow> {
    caller.require_role(Role::Editor)?;
    let patch = PlaylistPatch::parse(json)?;
    if let Some(boards) = &patch.boards {
        caller.require_all(Role::Editor, boards)?;
    }
    let mut tx = state.db.begin().await.map_err(StoreError::from)?;
    let old = locked_for(&mut tx, caller, name).await?;
    let playlist = changes::update_playlist(&mut tx, caller.name(), &old, &patch).await??;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(playlist)
}

pub async fn delete_as(state: &AppState, caller: &Caller, name: &str) -> ApiResult<()> {
    caller.require_role(Role::Editor)?;
    let mut tx = state.db.begin().await.map_err(StoreError::from)?;
    let old = locked_for(&mut tx, caller, name).await?;
    changes::delete_playlist(&mut tx, caller.name(), &old.name).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The playlist `name` if `caller` may change it: an editor of every one of its boards.
pub async fn editable(state: &AppState, caller: &Caller, name: &str) -> ApiResult<PlaylistRow> {
    caller.require_role(Role::Editor)?;
    locked_for(&mut *state.conn().await?, caller, name).await
}

/// The playlist, locked until `conn`'s transaction ends, if `caller` may change it.
async fn locked_for(conn: &mut sqlx::PgConnection, caller: &Caller, name: &str) -> ApiResult<PlaylistRow> {
    let playlist =
        playlists::find_locked(conn, name).await.map_err(|e| ApiError::from_store(e, playlist_not_found(name)))?;
    caller.require_all(Role::Editor, &playlist.boards)?;
    Ok(playlist)
}
