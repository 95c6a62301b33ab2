//! Changes made for a caller (a token, a signed-in session, the command line): each writes its
//! rows and its audit entry in one transaction, so the log holds exactly the changes that
//! happened. The API, the management pages and the CLI all change things through here.
//!
//! Targets: a board by its slug, a widget as `board/key`, a token or a playlist by its name, a
//! share link by what it admits to (a board's slug, or `playlist:<name>`); after a rename, the new
//! name (the details hold the old one).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json, json};
use sqlx::{Acquire, PgConnection};

use super::StoreResult;
use super::audit::{self, Action, Changes};
use super::board_file::{self, ImportError, Plan};
use super::boards::{self, BoardRow};
use super::playlists::{self, PlaylistRow};
use super::shares::{self, ShareRow, Target};
use super::tokens::{self, UnknownBoards};
use super::widgets::{self, WidgetRow};
use crate::domain::{
    BoardFile, BoardPatch, Layout, NewBoard, NewPlaylist, NewShare, NewToken, NewWidget, PlaylistPatch,
    ValidationErrors, WidgetPatch,
};

pub async fn create_board(conn: &mut PgConnection, actor: &str, new: &NewBoard) -> StoreResult<BoardRow> {
    let mut tx = conn.begin().await?;
    let board = boards::create(&mut *tx, new).await?;
    audit::record(&mut tx, actor, Action::BoardCreated, &board.slug, json!({"title": board.title})).await?;
    tx.commit().await?;
    Ok(board)
}

/// An update that changes nothing leaves no entry.
pub async fn update_board(
    conn: &mut PgConnection,
    actor: &str,
    slug: &str,
    patch: &BoardPatch,
) -> StoreResult<BoardRow> {
    let mut tx = conn.begin().await?;
    let old = boards::find_locked(&mut tx, slug).await?;
    let new = boards::update(&mut *tx, slug, patch).await?;
    let mut changes = Changes::default();
    changes
        .field("slug", &old.slug, &new.slug)
        .field("title", &old.title, &new.title)
        .field("description", &old.description, &new.description)
        .field("columns", &old.columns, &new.columns)
        .field("visibility", &old.visibility, &new.visibility);
    if !changes.is_empty() {
        audit::record(&mut tx, actor, Action::BoardUpdated, &new.slug, changes.into_json()).await?;
    }
    tx.commit().await?;
    Ok(new)
}

pub async fn delete_board(conn: &mut PgConnection, actor: &str, slug: &str) -> StoreResult<()> {
    let mut tx = conn.begin().await?;
    boards::delete(&mut *tx, slug).await?;
    audit::record(&mut tx, actor, Action::BoardDeleted, slug, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn create_widget(
    conn: &mut PgConnection,
    actor: &str,
    board: &BoardRow,
    new: &NewWidget,
) -> StoreResult<WidgetRow> {
    let mut tx = conn.begin().await?;
    let widget = widgets::create(&mut tx, board, new).await?;
    let details = json!({"title": widget.title, "kind": widget.kind});
    audit::record(&mut tx, actor, Action::WidgetCreated, &widget_target(&widget.board, &widget.key), details).await?;
    tx.commit().await?;
    Ok(widget)
}

/// An update that changes nothing leaves no entry. Of the config only the names of the changed
/// keys are recorded: a pull source's URL and headers may hold keys.
pub async fn update_widget(
    conn: &mut PgConnection,
    actor: &str,
    board: &str,
    key: &str,
    patch: &WidgetPatch,
) -> StoreResult<WidgetRow> {
    let mut tx = conn.begin().await?;
    let old = widgets::find_locked(&mut tx, board, key).await?;
    let new = widgets::update(&mut tx, board, key, patch).await?;
    let mut changes = Changes::default();
    changes
        .field("key", &old.key, &new.key)
        .field("title", &old.title, &new.title)
        .field("position", &old.position, &new.position)
        .keys_of("config", &old.config.as_json(), &new.config.as_json());
    if !changes.is_empty() {
        audit::record(&mut tx, actor, Action::WidgetUpdated, &widget_target(&new.board, &new.key), changes.into_json())
            .await?;
    }
    tx.commit().await?;
    Ok(new)
}

pub async fn delete_widget(conn: &mut PgConnection, actor: &str, board: &str, key: &str) -> StoreResult<()> {
    let mut tx = conn.begin().await?;
    widgets::delete(&mut tx, board, key).await?;
    audit::record(&mut tx, actor, Action::WidgetDeleted, &widget_target(board, key), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// A layout as saved: the board's widgets in their new order, and whether anything moved or
/// changed size.
pub struct SavedLayout {
    pub widgets: Vec<WidgetRow>,
    pub changed: bool,
}

/// Places the layout's widgets, all or none: a key that is not a widget of the board is an error
/// naming `widgets[i].key`, and nothing is written. A layout that changes nothing leaves no entry.
pub async fn save_layout(
    conn: &mut PgConnection,
    actor: &str,
    board: &BoardRow,
    layout: &Layout,
) -> StoreResult<Result<SavedLayout, ValidationErrors>> {
    let mut tx = conn.begin().await?;
    let old = widgets::of_board_locked(&mut tx, board.id).await?;
    let keys: HashSet<&str> = old.iter().map(|w| w.key.as_str()).collect();
    let mut unknown = ValidationErrors::default();
    for (i, placement) in layout.widgets.iter().enumerate() {
        let key = placement.key.as_str();
        if !keys.contains(key) {
            unknown.add(format!("widgets[{i}].key"), format!("board {:?} has no widget {key:?}", board.slug));
        }
    }
    if !unknown.is_empty() {
        return Ok(Err(unknown));
    }
    widgets::place(&mut tx, board.id, layout).await?;
    let new = widgets::of_board(&mut tx, board.id).await?;
    let moved = layout_changes(&old, &new);
    if !moved.is_empty() {
        audit::record(&mut tx, actor, Action::LayoutUpdated, &board.slug, json!({ "widgets": moved })).await?;
    }
    tx.commit().await?;
    Ok(Ok(SavedLayout { widgets: new, changed: !moved.is_empty() }))
}

/// `{"key": {"position": {"old", "new"}, "width": …, "height": …}}` of each widget that changed.
fn layout_changes(old: &[WidgetRow], new: &[WidgetRow]) -> Map<String, Json> {
    let old: HashMap<i64, &WidgetRow> = old.iter().map(|w| (w.id, w)).collect();
    let mut moved = Map::new();
    for after in new {
        let Some(before) = old.get(&after.id) else { continue };
        let mut changes = Changes::default();
        changes
            .field("position", &before.position, &after.position)
            .field("width", &before.config.width(), &after.config.width())
            .field("height", &before.config.height(), &after.config.height());
        if !changes.is_empty() {
            moved.insert(after.key.clone(), changes.into_json());
        }
    }
    moved
}

/// Returns the new token's secret, which the entry does not hold; nothing is stored when a
/// board it names does not exist.
pub async fn create_token(
    conn: &mut PgConnection,
    actor: &str,
    new: &NewToken,
) -> StoreResult<Result<String, UnknownBoards>> {
    let mut tx = conn.begin().await?;
    let secret = match tokens::create(&mut tx, new).await? {
        Ok(secret) => secret,
        Err(unknown) => return Ok(Err(unknown)),
    };
    let boards: Option<Vec<&str>> = new.boards.as_ref().map(|boards| boards.iter().map(|b| b.as_str()).collect());
    let details = json!({"role": new.role, "boards": boards});
    audit::record(&mut tx, actor, Action::TokenCreated, &new.name, details).await?;
    tx.commit().await?;
    Ok(Ok(secret))
}

pub async fn revoke_token(conn: &mut PgConnection, actor: &str, name: &str) -> StoreResult<()> {
    let mut tx = conn.begin().await?;
    tokens::revoke(&mut *tx, name).await?;
    audit::record(&mut tx, actor, Action::TokenRevoked, name, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Returns the new link with its secret, which the entry does not hold. `NotFound`: no such
/// board or playlist.
pub async fn create_share(
    conn: &mut PgConnection,
    actor: &str,
    target: Target<'_>,
    new: &NewShare,
) -> StoreResult<(ShareRow, String)> {
    let mut tx = conn.begin().await?;
    let (share, secret) = shares::create(&mut tx, target, new).await?;
    let details = json!({"id": share.id, "name": share.name, "expires_at": share.expires_at});
    audit::record(&mut tx, actor, Action::ShareCreated, &share.target().to_string(), details).await?;
    tx.commit().await?;
    Ok((share, secret))
}

/// Revokes link `id` of `target` (`None`: whatever it admits to).
pub async fn revoke_share(
    conn: &mut PgConnection,
    actor: &str,
    target: Option<Target<'_>>,
    id: i64,
) -> StoreResult<ShareRow> {
    let mut tx = conn.begin().await?;
    let share = shares::revoke(&mut tx, target, id).await?;
    let details = json!({"id": share.id, "name": share.name});
    audit::record(&mut tx, actor, Action::ShareRevoked, &share.target().to_string(), details).await?;
    tx.commit().await?;
    Ok(share)
}

/// How an import is applied: `prune` deletes the widgets of the file's boards that the file
/// lacks; `dry_run` plans and changes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub prune: bool,
    pub dry_run: bool,
}

/// Makes the database match a boards file in one transaction with one audit entry (target: the
/// boards changed; details: the plan's lines). A dry run, or a file that changes nothing, is
/// rolled back and leaves no entry.
pub async fn import(
    conn: &mut PgConnection,
    actor: &str,
    file: &BoardFile,
    options: ImportOptions,
) -> Result<Plan, ImportError> {
    let mut tx = conn.begin().await?;
    let plan = board_file::apply(&mut tx, file, options.prune).await?;
    if options.dry_run || plan.changes.is_empty() {
        tx.rollback().await?;
        return Ok(plan);
    }
    let target = plan.boards.iter().map(|b| b.slug.as_str()).collect::<Vec<_>>().join(", ");
    audit::record(&mut tx, actor, Action::Import, &target, json!({"changes": plan.lines()})).await?;
    tx.commit().await?;
    Ok(plan)
}

/// Nothing is stored when a board it names does not exist.
pub async fn create_playlist(
    conn: &mut PgConnection,
    actor: &str,
    new: &NewPlaylist,
) -> StoreResult<Result<PlaylistRow, UnknownBoards>> {
    let mut tx = conn.begin().await?;
    let playlist = match playlists::create(&mut tx, new).await? {
        Ok(playlist) => playlist,
        Err(unknown) => return Ok(Err(unknown)),
    };
    let details = json!({"title": playlist.title, "interval_s": playlist.interval_s, "boards": playlist.boards});
    audit::record(&mut tx, actor, Action::PlaylistCreated, &playlist.name, details).await?;
    tx.commit().await?;
    Ok(Ok(playlist))
}

/// `old` is the playlist as [`playlists::find_locked`] read it on this same connection, in the
/// transaction the caller opened to decide whether the change is allowed. An update that changes
/// nothing leaves no entry.
pub async fn update_playlist(
    tx: &mut PgConnection,
    actor: &str,
    old: &PlaylistRow,
    patch: &PlaylistPatch,
) -> StoreResult<Result<PlaylistRow, UnknownBoards>> {
    let new = match playlists::update(tx, &old.name, patch).await? {
        Ok(new) => new,
        Err(unknown) => return Ok(Err(unknown)),
    };
    let mut changes = Changes::default();
    changes
        .field("name", &old.name, &new.name)
        .field("title", &old.title, &new.title)
        .field("interval_s", &old.interval_s, &new.interval_s)
        .field("boards", &old.boards, &new.boards);
    if !changes.is_empty() {
        audit::record(tx, actor, Action::PlaylistUpdated, &new.name, changes.into_json()).await?;
    }
    Ok(Ok(new))
}

/// `name` is locked in the caller's transaction, as for [`update_playlist`].
pub async fn delete_playlist(tx: &mut PgConnection, actor: &str, name: &str) -> StoreResult<()> {
    playlists::delete(tx, name).await?;
    audit::record(tx, actor, Action::PlaylistDeleted, name, json!({})).await
}

fn widget_target(board: &str, key: &str) -> String {
    format!("{board}/{key}")
}
