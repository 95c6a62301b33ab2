//! A boards file, what `dashboard export` writes and `dashboard import` reads (README, "Boards
//! as code"): `{"version": 1, "boards": [{…, "widgets": […]}], "playlists": [{…}]}`.
//!
//! Each board and widget is checked by the same rules as the API ([`NewBoard`], [`NewWidget`]);
//! a file is refused as a whole, by the first problem in it, named by its JSON path
//! (`boards[2].widgets[0].config.max`), so an import changes everything or nothing.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value as Json};

use super::board::NewBoard;
use super::fields::ValidationErrors;
use super::playlist::NewPlaylist;
use super::visibility::Visibility;
use super::widget::NewWidget;

/// The format version this build writes and the newest it reads.
pub const BOARD_FILE_VERSION: i64 = 1;

const FILE_FIELDS: [&str; 3] = ["version", "boards", "playlists"];
const BOARD_FIELDS: [&str; 6] = ["slug", "title", "description", "columns", "visibility", "widgets"];
const WIDGET_FIELDS: [&str; 5] = ["key", "title", "kind", "config", "position"];
const PLAYLIST_FIELDS: [&str; 4] = ["name", "title", "interval_s", "boards"];

/// What is wrong with a file, and where: shown as one line, `boards[1].slug: duplicate "ops"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: String,
    pub message: String,
}

impl FileError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }

    /// The first of `errors` (fields relative to `prefix`, the path of the object checked).
    pub fn first_of(prefix: &str, errors: &ValidationErrors) -> Self {
        let (field, message) = errors.iter().next().map_or(("", "is invalid"), |(f, m)| (f.as_str(), m.as_str()));
        let path = match field {
            "" | "body" => prefix.to_string(),
            field => join(prefix, field),
        };
        Self::new(path, message)
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for FileError {}

#[derive(Debug, Clone)]
pub struct BoardFile {
    pub boards: Vec<BoardSpec>,
    pub playlists: Vec<NewPlaylist>,
}

/// One board of a file, with the widgets it should have.
#[derive(Debug, Clone)]
pub struct BoardSpec {
    /// Its place in the file, for errors found against the database.
    pub index: usize,
    pub board: NewBoard,
    /// Whether the file gives `visibility`: without it, an existing board keeps its own and a
    /// new one gets `DEFAULT_BOARD_VISIBILITY`.
    pub visibility_given: bool,
    pub widgets: Vec<NewWidget>,
}

impl BoardSpec {
    pub fn path(&self) -> String {
        format!("boards[{}]", self.index)
    }

    pub fn widget_path(&self, index: usize) -> String {
        format!("{}.widgets[{index}]", self.path())
    }
}

impl BoardFile {
    /// `default_visibility` is `DEFAULT_BOARD_VISIBILITY`, for boards that do not name one.
    pub fn parse(json: &Json, default_visibility: Visibility) -> Result<Self, FileError> {
        let file = object("file", json, "must be a JSON object with \"version\" and \"boards\"")?;
        known_fields("", file, &FILE_FIELDS)?;
        check_version(file.get("version"))?;
        let playlists = parse_playlists(file.get("playlists"))?;
        let raw_boards = match file.get("boards") {
            Some(Json::Array(boards)) => boards,
            Some(_) => return Err(FileError::new("boards", "must be a list of boards")),
            None => return Err(FileError::new("boards", "is required")),
        };
        let mut slugs = HashSet::new();
        let mut boards = Vec::with_capacity(raw_boards.len());
        for (index, raw) in raw_boards.iter().enumerate() {
            let spec = parse_board(index, raw, default_visibility)?;
            if !slugs.insert(spec.board.slug.clone()) {
                return Err(FileError::new(
                    join(&spec.path(), "slug"),
                    format!("duplicate {:?}", spec.board.slug.as_str()),
                ));
            }
            boards.push(spec);
        }
        Ok(Self { boards, playlists })
    }

    /// Every board the file names: its own, and those its playlists show.
    pub fn board_slugs(&self) -> impl Iterator<Item = &str> {
        let own = self.boards.iter().map(|spec| spec.board.slug.as_str());
        own.chain(self.playlists.iter().flat_map(|p| p.boards.iter().map(|b| b.as_str())))
    }
}

fn check_version(raw: Option<&Json>) -> Result<(), FileError> {
    let version = raw.ok_or_else(|| FileError::new("version", "is required"))?;
    match version.as_i64() {
        Some(BOARD_FILE_VERSION) => Ok(()),
        Some(newer) if newer > BOARD_FILE_VERSION => Err(FileError::new(
            "version",
            format!("{newer} is newer than this version of dashboard reads ({BOARD_FILE_VERSION})"),
        )),
        _ => Err(FileError::new("version", format!("must be {BOARD_FILE_VERSION}"))),
    }
}

/// The file's playlists, each checked by the API's rules; a name given twice is an error.
fn parse_playlists(raw: Option<&Json>) -> Result<Vec<NewPlaylist>, FileError> {
    let items = match raw {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(FileError::new("playlists", "must be a list of playlists")),
    };
    let mut playlists: Vec<NewPlaylist> = Vec::with_capacity(items.len());
    for (index, raw) in items.iter().enumerate() {
        let path = format!("playlists[{index}]");
        known_fields(&path, object(&path, raw, "must be a playlist object")?, &PLAYLIST_FIELDS)?;
        let playlist = NewPlaylist::parse(raw).map_err(|e| FileError::first_of(&path, &e))?;
        if playlists.iter().any(|p| p.name == playlist.name) {
            return Err(FileError::new(join(&path, "name"), format!("duplicate {:?}", playlist.name.as_str())));
        }
        playlists.push(playlist);
    }
    Ok(playlists)
}

fn parse_board(index: usize, raw: &Json, default_visibility: Visibility) -> Result<BoardSpec, FileError> {
    let path = format!("boards[{index}]");
    let fields = object(&path, raw, "must be a board object")?;
    known_fields(&path, fields, &BOARD_FIELDS)?;
    if fields.get("slug").is_none_or(Json::is_null) {
        return Err(FileError::new(join(&path, "slug"), "is required"));
    }
    let board = NewBoard::parse(raw, default_visibility).map_err(|e| FileError::first_of(&path, &e))?;
    let visibility_given = fields.get("visibility").is_some_and(|v| !v.is_null());
    let widgets_path = join(&path, "widgets");
    let raw_widgets = match fields.get("widgets") {
        None | Some(Json::Null) => &Vec::new(),
        Some(Json::Array(widgets)) => widgets,
        Some(_) => return Err(FileError::new(widgets_path, "must be a list of widgets")),
    };
    let mut keys = HashSet::new();
    let mut widgets = Vec::with_capacity(raw_widgets.len());
    for (i, raw) in raw_widgets.iter().enumerate() {
        let path = format!("{widgets_path}[{i}]");
        known_fields(&path, object(&path, raw, "must be a widget object")?, &WIDGET_FIELDS)?;
        let widget = NewWidget::parse(raw).map_err(|e| FileError::first_of(&path, &e))?;
        if !keys.insert(widget.key.clone()) {
            return Err(FileError::new(join(&path, "key"), format!("duplicate {:?}", widget.key.as_str())));
        }
        widgets.push(widget);
    }
    Ok(BoardSpec { index, board, visibility_given, widgets })
}

fn object<'a>(path: &str, json: &'a Json, message: &str) -> Result<&'a Map<String, Json>, FileError> {
    json.as_object().ok_or_else(|| FileError::new(path, message))
}

/// A misspelt field would otherwise be dropped without a word.
fn known_fields(path: &str, fields: &Map<String, Json>, known: &[&str]) -> Result<(), FileError> {
    match fields.keys().find(|name| !known.contains(&name.as_str())) {
        Some(unknown) => {
            Err(FileError::new(join(path, unknown), format!("unknown field; expected one of {}", known.join(", "))))
        }
        None => Ok(()),
    }
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(json: Json) -> Result<BoardFile, FileError> {
        BoardFile::parse(&json, Visibility::Public)
    }

    fn error(json: Json) -> String {
        parse(json).unwrap_err().to_string()
    }

    fn board(slug: &str, widgets: Json) -> Json {
        json!({"slug": slug, "title": slug, "widgets": widgets})
    }

    #[test]
    fn reads_boards_and_widgets_as_the_api_does() {
        let file = parse(json!({"version": 1, "boards": [
            {"slug": "ops", "title": "Ops", "columns": 6, "visibility": "private", "widgets": [
                {"key": "cpu", "title": "CPU", "kind": "gauge", "config": {"max": 100}, "position": 2}
            ]},
            {"slug": "web", "title": "Web"}
        ], "playlists": []}))
        .unwrap();
        let (ops, web) = (&file.boards[0], &file.boards[1]);
        assert_eq!((ops.board.columns, ops.board.visibility, ops.visibility_given), (6, Visibility::Private, true));
        assert_eq!(ops.widgets[0].position, Some(2));
        assert!(web.widgets.is_empty() && !web.visibility_given);
        assert_eq!(web.widget_path(3), "boards[1].widgets[3]");
    }

    #[test]
    fn each_problem_is_named_by_its_path() {
        let cases = [
            (json!([]), "file: must be a JSON object"),
            (json!({"boards": []}), "version: is required"),
            (json!({"version": 2, "boards": []}), "version: 2 is newer than this version of dashboard reads (1)"),
            (json!({"version": "1", "boards": []}), "version: must be 1"),
            (json!({"version": 1}), "boards: is required"),
            (json!({"version": 1, "boards": [], "extra": 1}), "extra: unknown field"),
            (json!({"version": 1, "boards": [], "playlists": [{"name": "tv"}]}), "playlists[0].boards: is required"),
            (
                json!({"version": 1, "boards": [], "playlists": [
                    {"name": "tv", "title": "TV", "interval_s": 10, "boards": ["ops"]},
                    {"name": "tv", "title": "TV", "interval_s": 10, "boards": ["ops"]}
                ]}),
                "playlists[1].name: duplicate \"tv\"",
            ),
            (
                json!({"version": 1, "boards": [], "playlists": [{"name": "tv", "title": "TV", "interval_s": 1, "boards": ["ops"]}]}),
                "playlists[0].interval_s: must be a whole number from 5 to 86400",
            ),
            (
                json!({"version": 1, "boards": [board("a", json!([])), board("a", json!([]))]}),
                "boards[1].slug: duplicate \"a\"",
            ),
            (json!({"version": 1, "boards": [{"title": "No slug"}]}), "boards[0].slug: is required"),
            (
                json!({"version": 1, "boards": [{"slug": "a", "title": "A", "colums": 3}]}),
                "boards[0].colums: unknown field",
            ),
            (
                json!({"version": 1, "boards": [{"slug": "a", "title": "A", "columns": 13}]}),
                "boards[0].columns: must be",
            ),
            (
                json!({"version": 1, "boards": [board("a", json!([{"key": "x", "title": "X", "kind": "pie"}]))]}),
                "boards[0].widgets[0].kind: must be one of",
            ),
            (
                json!({"version": 1, "boards": [board("a", json!([{"key": "x", "title": "X", "kind": "gauge", "config": {"max": "big"}}]))]}),
                "boards[0].widgets[0].config.max: must be a number",
            ),
            (
                json!({"version": 1, "boards": [board("a", json!([
                    {"key": "x", "title": "X", "kind": "text"}, {"key": "x", "title": "Y", "kind": "text"}
                ]))]}),
                "boards[0].widgets[1].key: duplicate \"x\"",
            ),
            (
                json!({"version": 1, "boards": [board("a", json!([7]))]}),
                "boards[0].widgets[0]: must be a widget object",
            ),
        ];
        for (file, expected) in cases {
            let message = error(file.clone());
            assert!(message.starts_with(expected), "{file}: {message:?} does not start with {expected:?}");
        }
    }
}
