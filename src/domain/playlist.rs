//! A playlist: boards shown one after another on a wall screen, checked once for the API and the
//! management forms. Its JSON shape, `{"name", "title", "interval_s", "boards"}`, is also the one
//! an export file holds.

use serde_json::Value as Json;

use super::board::{MAX_TITLE, slug_field};
use super::fields::{Fields, ValidationErrors};
use super::slug::Slug;

/// The shortest turn a board gets on screen: less cannot be read from across a room.
pub const MIN_INTERVAL_S: i64 = 5;
/// The longest: a day, beyond which a playlist is a board.
pub const MAX_INTERVAL_S: i64 = 86_400;
pub const MAX_BOARDS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewPlaylist {
    pub name: Slug,
    pub title: String,
    pub interval_s: i32,
    /// In the order they are shown; each board once.
    pub boards: Vec<Slug>,
}

/// A PATCH: only the fields present change; `boards` replaces the whole list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaylistPatch {
    pub name: Option<Slug>,
    pub title: Option<String>,
    pub interval_s: Option<i32>,
    pub boards: Option<Vec<Slug>>,
}

impl NewPlaylist {
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json)?;
        let name = slug_field(&mut f, "name");
        let title = f.required_string("title", 1, MAX_TITLE);
        let interval_s = interval_field(&mut f);
        let boards = boards_field(&mut f);
        match (name, title, interval_s, boards) {
            (Some(name), Some(title), Some(interval_s), Some(boards)) if f.errors.is_empty() => {
                Ok(Self { name, title: title.trim().to_string(), interval_s, boards })
            }
            _ => Err(f.errors),
        }
    }
}

impl PlaylistPatch {
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json)?;
        let patch = Self {
            name: f.raw("name").and_then(|_| slug_field(&mut f, "name")),
            title: f.raw("title").and_then(|_| f.required_string("title", 1, MAX_TITLE)).map(|t| t.trim().to_string()),
            interval_s: f.raw("interval_s").and_then(|_| interval_field(&mut f)),
            boards: f.raw("boards").and_then(|_| boards_field(&mut f)),
        };
        f.errors.into_result(patch)
    }
}

fn interval_field(f: &mut Fields<'_>) -> Option<i32> {
    match f.raw("interval_s") {
        None => f.fail("interval_s", "is required"),
        Some(_) => f.integer("interval_s", MIN_INTERVAL_S, MAX_INTERVAL_S).map(|n| n as i32),
    }
}

/// 1 to [`MAX_BOARDS`] board slugs, none twice; a bad one is named by its index (`boards[2]`).
fn boards_field(f: &mut Fields<'_>) -> Option<Vec<Slug>> {
    let rule = format!("must be a list of 1 to {MAX_BOARDS} board slugs");
    let items = match f.raw("boards") {
        None => return f.fail("boards", "is required"),
        Some(Json::Array(items)) if (1..=MAX_BOARDS).contains(&items.len()) => items,
        Some(_) => return f.fail("boards", rule),
    };
    let mut boards: Vec<Slug> = Vec::with_capacity(items.len());
    let mut problems = ValidationErrors::default();
    for (i, item) in items.iter().enumerate() {
        let field = format!("boards[{i}]");
        match item.as_str().map(Slug::parse) {
            Some(Ok(slug)) if boards.contains(&slug) => {
                problems.add(field, format!("lists board {:?} again", slug.as_str()))
            }
            Some(Ok(slug)) => boards.push(slug),
            Some(Err(slug_rule)) => problems.add(field, slug_rule),
            None => problems.add(field, "must be a board slug (a string)"),
        }
    }
    let whole = problems.is_empty();
    f.errors.merge(problems);
    whole.then_some(boards)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_playlist_reads_and_writes_its_export_shape() {
        let raw = json!({"name": "tv", "title": " Lobby ", "interval_s": 5, "boards": ["ops", "web"]});
        let playlist = NewPlaylist::parse(&raw).unwrap();
        assert_eq!(playlist.title, "Lobby");
        assert_eq!(playlist.boards, [Slug::parse("ops").unwrap(), Slug::parse("web").unwrap()]);
        let written = serde_json::to_value(&playlist).unwrap();
        assert_eq!(written, json!({"name": "tv", "title": "Lobby", "interval_s": 5, "boards": ["ops", "web"]}));
        assert_eq!(NewPlaylist::parse(&written).unwrap(), playlist);
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = NewPlaylist::parse(&json!({"name": "TV", "title": "", "interval_s": 4, "boards": []})).unwrap_err();
        for field in ["name", "title", "interval_s", "boards"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        let e = NewPlaylist::parse(&json!({})).unwrap_err();
        assert_eq!(e.get("interval_s"), Some("is required"));
        assert_eq!(e.get("boards"), Some("is required"));
        let too_long: Vec<String> = (0..=MAX_BOARDS).map(|i| format!("b{i}")).collect();
        let e = NewPlaylist::parse(&json!({"name": "tv", "title": "T", "interval_s": 86_401, "boards": too_long}))
            .unwrap_err();
        assert!(e.get("interval_s").is_some() && e.get("boards").is_some(), "{e:?}");
    }

    #[test]
    fn a_bad_board_is_named_by_its_place_and_none_is_listed_twice() {
        let e = NewPlaylist::parse(&json!({"name": "tv", "title": "T", "interval_s": 5, "boards": ["ops", 3, "Web"]}))
            .unwrap_err();
        assert!(e.get("boards[1]").is_some() && e.get("boards[2]").is_some() && e.get("boards[0]").is_none(), "{e:?}");
        let e = PlaylistPatch::parse(&json!({"boards": ["ops", "web", "ops"]})).unwrap_err();
        assert_eq!(e.get("boards[2]"), Some("lists board \"ops\" again"));
    }

    #[test]
    fn a_patch_takes_only_present_fields() {
        let patch = PlaylistPatch::parse(&json!({"interval_s": 30})).unwrap();
        assert_eq!(patch, PlaylistPatch { interval_s: Some(30), ..Default::default() });
        assert!(PlaylistPatch::parse(&json!({"interval_s": 2})).unwrap_err().get("interval_s").is_some());
        assert!(PlaylistPatch::parse(&json!({"title": " "})).is_err());
    }
}
