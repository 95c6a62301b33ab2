//! Boards as code: the boards file read out of the database (export), and the database made to
//! match a file (import), by board slug and widget key. [`apply`] runs on the caller's
//! transaction; [`super::changes::import`] commits it with its audit entry, or rolls it back.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value as Json;
use sqlx::{Acquire, PgConnection};

use super::boards::{self, BoardRow};
use super::playlists::{self, PlaylistRow};
use super::tokens::UnknownBoards;
use super::widgets::{self, WidgetRow};
use super::{StoreError, StoreResult};
use crate::domain::{
    BOARD_FILE_VERSION, BoardFile, BoardPatch, BoardSpec, FileError, NewPlaylist, NewWidget, PlaylistPatch, Visibility,
    WidgetKind, WidgetPatch,
};

/// Serializes imports: two files applied at once would each plan against what the other changes.
const IMPORT_LOCK: i64 = 0x696d_706f_7274;

/// A file as `dashboard export` writes it; field order is the file's key order.
#[derive(Debug, Serialize)]
pub struct ExportedFile {
    version: i64,
    boards: Vec<ExportedBoard>,
    playlists: Vec<ExportedPlaylist>,
}

#[derive(Debug, Serialize)]
struct ExportedPlaylist {
    name: String,
    title: String,
    interval_s: i32,
    boards: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ExportedBoard {
    slug: String,
    title: String,
    description: String,
    columns: i32,
    visibility: Visibility,
    widgets: Vec<ExportedWidget>,
}

#[derive(Debug, Serialize)]
struct ExportedWidget {
    key: String,
    title: String,
    kind: WidgetKind,
    config: Json,
    position: i32,
}

impl ExportedFile {
    /// Pretty JSON with a trailing newline: the same database gives the same bytes.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn slugs(&self) -> impl Iterator<Item = &str> {
        self.boards.iter().map(|b| b.slug.as_str())
    }
}

/// The boards `include` accepts, by slug, each with its widgets by position and key, and the
/// playlists that show only such boards, by name, all read from one snapshot. Configs are as management views show them: a pull source's headers by
/// name only (they are secrets).
pub async fn export(conn: &mut PgConnection, include: impl Fn(&str) -> bool) -> StoreResult<ExportedFile> {
    let mut tx = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let mut boards = Vec::new();
    for board in boards::all(&mut tx).await?.into_iter().filter(|b| include(&b.slug)) {
        let mut widgets = widgets::of_board(&mut tx, board.id).await?;
        widgets.sort_by(|a, b| (a.position, &a.key).cmp(&(b.position, &b.key)));
        boards.push(ExportedBoard {
            widgets: widgets.into_iter().map(exported_widget).collect(),
            slug: board.slug,
            title: board.title,
            description: board.description,
            columns: board.columns,
            visibility: board.visibility,
        });
    }
    let playlists = playlists::all(&mut tx)
        .await?
        .into_iter()
        .filter(|p| p.boards.iter().all(|board| include(board)))
        .map(|p| ExportedPlaylist { name: p.name, title: p.title, interval_s: p.interval_s, boards: p.boards })
        .collect();
    Ok(ExportedFile { version: BOARD_FILE_VERSION, boards, playlists })
}

fn exported_widget(widget: WidgetRow) -> ExportedWidget {
    ExportedWidget {
        config: widget.config.managed_json(),
        key: widget.key,
        title: widget.title,
        kind: widget.kind,
        position: widget.position,
    }
}

/// One line of an import's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    CreateBoard { board: String },
    UpdateBoard { board: String, fields: Vec<&'static str> },
    CreateWidget { board: String, key: String },
    UpdateWidget { board: String, key: String, fields: Vec<&'static str> },
    DeleteWidget { board: String, key: String },
    CreatePlaylist { name: String },
    UpdatePlaylist { name: String, fields: Vec<&'static str> },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateBoard { board } => write!(f, "create board {board}"),
            Self::UpdateBoard { board, fields } => write!(f, "update board {board} ({})", fields.join(", ")),
            Self::CreateWidget { board, key } => write!(f, "create widget {board}/{key}"),
            Self::UpdateWidget { board, key, fields } => {
                write!(f, "update widget {board}/{key} ({})", fields.join(", "))
            }
            Self::DeleteWidget { board, key } => write!(f, "delete widget {board}/{key}"),
            Self::CreatePlaylist { name } => write!(f, "create playlist {name}"),
            Self::UpdatePlaylist { name, fields } => write!(f, "update playlist {name} ({})", fields.join(", ")),
        }
    }
}

/// How an import changed a board, for telling its open pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardChange {
    Created,
    /// Its own fields (and perhaps its widgets) changed.
    Updated,
    WidgetsOnly,
}

#[derive(Debug, Clone)]
pub struct ChangedBoard {
    pub slug: String,
    pub visibility: Visibility,
    pub change: BoardChange,
}

/// What an import changes (or, in a dry run, would change), in file order.
#[derive(Debug, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub boards: Vec<ChangedBoard>,
}

impl Plan {
    pub fn lines(&self) -> Vec<String> {
        self.changes.iter().map(ToString::to_string).collect()
    }
}

/// Why an import changed nothing: the file is wrong (against the database, too: a widget's kind
/// cannot change), or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Invalid(#[from] FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

/// Makes the boards and playlists of `file` match it, on `conn`'s transaction; with `prune`, the
/// widgets of those boards that the file lacks are deleted. Boards and playlists the file does
/// not name are not touched.
pub async fn apply(conn: &mut PgConnection, file: &BoardFile, prune: bool) -> Result<Plan, ImportError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(IMPORT_LOCK).execute(&mut *conn).await?;
    let mut plan = Plan::default();
    for spec in &file.boards {
        apply_board(conn, spec, prune, &mut plan).await?;
    }
    for (index, playlist) in file.playlists.iter().enumerate() {
        apply_playlist(conn, index, playlist, &mut plan).await?;
    }
    Ok(plan)
}

/// Creates the playlist or updates what differs; its boards must exist (in the database, or
/// earlier in this same import).
async fn apply_playlist(
    conn: &mut PgConnection,
    index: usize,
    wanted: &NewPlaylist,
    plan: &mut Plan,
) -> Result<(), ImportError> {
    let name = wanted.name.as_str();
    let stored = match playlists::find_locked(conn, name).await {
        Ok(stored) => Some(stored),
        Err(StoreError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    let outcome = match stored {
        None => {
            plan.changes.push(Change::CreatePlaylist { name: name.to_string() });
            playlists::create(conn, wanted).await?.map(drop)
        }
        Some(stored) => {
            let (patch, fields) = playlist_patch(&stored, wanted);
            if fields.is_empty() {
                return Ok(());
            }
            plan.changes.push(Change::UpdatePlaylist { name: name.to_string(), fields });
            playlists::update(conn, name, &patch).await?.map(drop)
        }
    };
    outcome.map_err(|UnknownBoards(unknown)| {
        let message = format!("names boards that do not exist: {}", unknown.join(", "));
        FileError::new(format!("playlists[{index}].boards"), message).into()
    })
}

fn playlist_patch(stored: &PlaylistRow, wanted: &NewPlaylist) -> (PlaylistPatch, Vec<&'static str>) {
    let mut patch = PlaylistPatch::default();
    let mut fields = Vec::new();
    if wanted.title != stored.title {
        patch.title = Some(wanted.title.clone());
        fields.push("title");
    }
    if wanted.interval_s != stored.interval_s {
        patch.interval_s = Some(wanted.interval_s);
        fields.push("interval_s");
    }
    if !wanted.boards.iter().map(|b| b.as_str()).eq(stored.boards.iter().map(String::as_str)) {
        patch.boards = Some(wanted.boards.clone());
        fields.push("boards");
    }
    (patch, fields)
}

async fn apply_board(
    conn: &mut PgConnection,
    spec: &BoardSpec,
    prune: bool,
    plan: &mut Plan,
) -> Result<(), ImportError> {
    let changes_before = plan.changes.len();
    let slug = spec.board.slug.as_str();
    let (board, change) = match boards::find_locked(conn, slug).await {
        Ok(stored) => (update_board(conn, spec, stored, plan).await?, BoardChange::Updated),
        Err(StoreError::NotFound) => {
            plan.changes.push(Change::CreateBoard { board: slug.to_string() });
            (boards::create(&mut *conn, &spec.board).await?, BoardChange::Created)
        }
        Err(other) => return Err(other.into()),
    };
    let board_changed = plan.changes.len() > changes_before;
    apply_widgets(conn, spec, &board, prune, plan).await?;
    if plan.changes.len() > changes_before {
        let change = if board_changed { change } else { BoardChange::WidgetsOnly };
        plan.boards.push(ChangedBoard { slug: board.slug, visibility: board.visibility, change });
    }
    Ok(())
}

async fn update_board(
    conn: &mut PgConnection,
    spec: &BoardSpec,
    stored: BoardRow,
    plan: &mut Plan,
) -> StoreResult<BoardRow> {
    let wanted = &spec.board;
    let mut patch = BoardPatch::default();
    let mut fields = Vec::new();
    if wanted.title != stored.title {
        patch.title = Some(wanted.title.clone());
        fields.push("title");
    }
    if wanted.description != stored.description {
        patch.description = Some(wanted.description.clone());
        fields.push("description");
    }
    if wanted.columns != stored.columns {
        patch.columns = Some(wanted.columns);
        fields.push("columns");
    }
    if spec.visibility_given && wanted.visibility != stored.visibility {
        patch.visibility = Some(wanted.visibility);
        fields.push("visibility");
    }
    if fields.is_empty() {
        return Ok(stored);
    }
    let updated = boards::update(&mut *conn, &stored.slug, &patch).await?;
    plan.changes.push(Change::UpdateBoard { board: stored.slug, fields });
    Ok(updated)
}

async fn apply_widgets(
    conn: &mut PgConnection,
    spec: &BoardSpec,
    board: &BoardRow,
    prune: bool,
    plan: &mut Plan,
) -> Result<(), ImportError> {
    let mut stored: HashMap<String, WidgetRow> =
        widgets::of_board(&mut *conn, board.id).await?.into_iter().map(|w| (w.key.clone(), w)).collect();
    for (index, wanted) in spec.widgets.iter().enumerate() {
        match stored.remove(wanted.key.as_str()) {
            Some(old) => update_widget(conn, &spec.widget_path(index), old, wanted, plan).await?,
            None => {
                widgets::create(&mut *conn, board, wanted).await?;
                plan.changes.push(Change::CreateWidget { board: board.slug.clone(), key: wanted.key.as_str().into() });
            }
        }
    }
    if prune {
        let mut unwanted: Vec<String> = stored.into_keys().collect();
        unwanted.sort();
        for key in unwanted {
            widgets::delete(&mut *conn, &board.slug, &key).await?;
            plan.changes.push(Change::DeleteWidget { board: board.slug.clone(), key });
        }
    }
    Ok(())
}

/// `path`: the widget's place in the file, to name what cannot be applied.
async fn update_widget(
    conn: &mut PgConnection,
    path: &str,
    old: WidgetRow,
    wanted: &NewWidget,
    plan: &mut Plan,
) -> Result<(), ImportError> {
    if old.kind != wanted.kind {
        let message = format!(
            "cannot change from {} to {}: its history would no longer fit; give the widget a new key",
            old.kind, wanted.kind
        );
        return Err(FileError::new(format!("{path}.kind"), message).into());
    }
    let mut config = wanted.config.clone();
    config.keep_source_headers(&old.config).map_err(|errors| FileError::first_of(path, &errors))?;
    let mut patch = WidgetPatch::default();
    let mut fields = Vec::new();
    if wanted.title != old.title {
        patch.title = Some(wanted.title.clone());
        fields.push("title");
    }
    if config.as_json() != old.config.as_json() {
        patch.config = Some(config);
        fields.push("config");
    }
    if let Some(position) = wanted.position.filter(|p| *p != old.position) {
        patch.position = Some(position);
        fields.push("position");
    }
    if fields.is_empty() {
        return Ok(());
    }
    widgets::update(&mut *conn, &old.board, &old.key, &patch).await?;
    plan.changes.push(Change::UpdateWidget { board: old.board, key: old.key, fields });
    Ok(())
}
