//! A board's layout as the layout editor saves it (`PUT /dashboard/boards/{board}/layout`): for
//! each widget named, its place in the board's order and how many columns and rows it spans.
//!
//! The list names some or all of the board's widgets (at least one, each once); a widget it does
//! not name keeps its place and size. Whether each key is a widget of the board is the store's
//! to check, in the transaction that writes the layout.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::board::slug_field;
use super::fields::{Fields, ValidationErrors};
use super::slug::Slug;
use super::widget::MAX_POSITION;
use super::widget_config::{MAX_HEIGHT, MAX_WIDTH};

/// Most widgets one layout names.
pub const MAX_PLACEMENTS: usize = 1_000;

/// Where one widget goes: `position` in the board's order (as a widget's own `position`), and its
/// `width` in columns and `height` in rows (as `config.width` and `config.height`).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub key: Slug,
    pub position: i32,
    pub width: i64,
    pub height: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// In the order given; no key twice.
    pub widgets: Vec<Placement>,
}

impl Layout {
    /// `{"widgets": [{"key", "position", "width", "height"}, …]}`; errors name
    /// `widgets[i].field`.
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let f = Fields::of(json)?;
        let Some(items) = f.raw("widgets").and_then(Json::as_array).filter(|i| (1..=MAX_PLACEMENTS).contains(&i.len()))
        else {
            let rule =
                format!("must be a list of 1 to {MAX_PLACEMENTS} {{\"key\", \"position\", \"width\", \"height\"}}");
            return Err(ValidationErrors::single("widgets", rule));
        };
        let mut errors = ValidationErrors::default();
        let mut widgets = Vec::with_capacity(items.len());
        let mut first_of_key: HashMap<Slug, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            match Placement::parse(item) {
                Ok(placement) => {
                    if let Some(first) = first_of_key.insert(placement.key.clone(), i) {
                        errors.add(format!("widgets[{i}].key"), format!("names the same widget as widgets[{first}]"));
                    }
                    widgets.push(placement);
                }
                Err(item_errors) => errors.merge(item_errors.nested(&format!("widgets[{i}]"))),
            }
        }
        errors.into_result(Self { widgets })
    }
}

impl Placement {
    /// Errors are named `.key`, `.width` …, or `""` for an item that is no object, so that the
    /// caller's prefix `widgets[i]` completes them.
    fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json).map_err(|_| ValidationErrors::single("", "must be a JSON object"))?;
        let key = slug_field(&mut f, "key");
        let position = f.required_integer("position", 0, MAX_POSITION);
        let width = f.required_integer("width", 1, MAX_WIDTH);
        let height = f.required_integer("height", 1, MAX_HEIGHT);
        let errors = f.errors.nested(".");
        match (key, position, width, height) {
            (Some(key), Some(position), Some(width), Some(height)) if errors.is_empty() => {
                Ok(Self { key, position: position as i32, width, height })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(key: &str, position: i64, width: i64, height: i64) -> Json {
        json!({"key": key, "position": position, "width": width, "height": height})
    }

    #[test]
    fn parses_each_placement_in_order() {
        let layout = Layout::parse(&json!({"widgets": [item("b", 0, 12, 6), item("a", 1, 1, 1)]})).unwrap();
        let keys: Vec<&str> = layout.widgets.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!((layout.widgets[0].width, layout.widgets[0].height), (12, 6));
    }

    #[test]
    fn each_bad_field_is_named_with_its_index() {
        let e = Layout::parse(&json!({"widgets": [
            item("ok", 0, 1, 1),
            item("Bad Key", 1, 1, 1),
            item("w", 2, 13, 1),
            item("h", 3, 1, 7),
            item("p", -1, 0, 1),
            {"key": "missing"},
            7,
        ]}))
        .unwrap_err();
        for field in [
            "widgets[1].key",
            "widgets[2].width",
            "widgets[3].height",
            "widgets[4].position",
            "widgets[4].width",
            "widgets[5].position",
            "widgets[5].width",
            "widgets[5].height",
            "widgets[6]",
        ] {
            assert!(e.get(field).is_some(), "{field} missing in {e:?}");
        }
        assert_eq!(e.get("widgets[5].width"), Some("is required"));
        assert!(e.get("widgets[0].key").is_none());
    }

    #[test]
    fn a_key_named_twice_is_refused_at_its_second_place() {
        let e = Layout::parse(&json!({"widgets": [item("a", 0, 1, 1), item("b", 1, 1, 1), item("a", 2, 1, 1)]}))
            .unwrap_err();
        assert_eq!(e.get("widgets[2].key"), Some("names the same widget as widgets[0]"));
    }

    #[test]
    fn the_list_must_name_one_widget_at_least() {
        for body in [json!({}), json!({"widgets": []}), json!({"widgets": {"a": 1}}), json!([])] {
            let e = Layout::parse(&body).unwrap_err();
            assert!(e.get("widgets").is_some() || e.get("body").is_some(), "{body}: {e:?}");
        }
    }
}
