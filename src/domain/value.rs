use serde_json::{Map, Value as Json};

use super::fields::{ValidationErrors, check_text};
use super::image::{ImageHosts, ImageSource, MAX_IMAGE_URL};
use super::numbers::check_object_numbers;
use super::widget::{NUL_MESSAGE, WidgetKind, contains_nul};

pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// The most values one request may push (a batch's events, a Smashing graph's points).
pub const MAX_BATCH: usize = 1000;
const MAX_TEXT: usize = 10_000;
const MAX_ITEMS: usize = 100;
const MAX_LABEL: usize = 200;
const MAX_MESSAGE: usize = 1000;
const MAX_ROWS: usize = 100;
const MAX_COLUMNS: usize = 20;
const MAX_BARS: usize = 50;

/// A value object that fits its widget's kind; extra fields are kept. Every number in
/// it, at any depth, is within the range of `numbers`.
#[derive(Debug, Clone, PartialEq)]
pub struct Value(Map<String, Json>);

impl Value {
    pub fn parse(kind: WidgetKind, json: Json) -> Result<Self, ValidationErrors> {
        let Json::Object(object) = json else {
            return Err(ValidationErrors::single("value", "must be a JSON object"));
        };
        let mut errors = ValidationErrors::default();
        let size = serde_json::to_vec(&object).map(|v| v.len()).unwrap_or(usize::MAX);
        // An image's `url` has its own limit, so a data: image of that size fits.
        let limit = if kind == WidgetKind::Image { MAX_VALUE_BYTES + MAX_IMAGE_URL } else { MAX_VALUE_BYTES };
        if size > limit {
            errors.add("value", format!("is {size} bytes; at most {limit} are allowed"));
            return Err(errors);
        }
        match kind {
            WidgetKind::Number | WidgetKind::Gauge | WidgetKind::Line => check_point(&object, &mut errors),
            WidgetKind::Text => check_text_value(&object, &mut errors),
            WidgetKind::List => check_list(&object, &mut errors),
            WidgetKind::Status => check_status(&object, &mut errors),
            WidgetKind::Table => check_table(&object, &mut errors),
            WidgetKind::Bar => check_bars(&object, &mut errors),
            WidgetKind::Image => check_image(&object, &mut errors),
            WidgetKind::Clock => check_clock(&object, &mut errors),
        }
        check_object_numbers(&object, &mut errors);
        if object.iter().any(|(key, value)| key.contains('\0') || contains_nul(value)) {
            errors.add("value", NUL_MESSAGE);
        }
        errors.into_result(Self(object))
    }

    pub fn as_map(&self) -> &Map<String, Json> {
        &self.0
    }

    /// Whether an image value's picture may be shown: its `url` is a `data:` image or comes
    /// from a host in `hosts` (other kinds always may).
    pub fn check_image_host(&self, hosts: &ImageHosts) -> Result<(), ValidationErrors> {
        let source = self.0.get("url").and_then(Json::as_str).map(ImageSource::parse);
        match source {
            Some(Ok(source)) => hosts.check(&source).map_err(|message| ValidationErrors::single("url", message)),
            _ => Ok(()),
        }
    }

    pub fn into_json(self) -> Json {
        Json::Object(self.0)
    }
}

fn check_point(object: &Map<String, Json>, errors: &mut ValidationErrors) {
    match object.get("value") {
        // serde_json cannot hold NaN or infinity, but a literal like 1e999 overflows: refuse it.
        Some(Json::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {}
        Some(_) => errors.add("value", "must be a finite number"),
        None => errors.add("value", "is required"),
    }
    if let Some(at) = object.get("at") {
        let valid = at.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
        if !valid {
            errors.add("at", "must be an RFC 3339 time, e.g. 2026-11-26T20:00:00Z");
        }
    }
}

fn check_text_value(object: &Map<String, Json>, errors: &mut ValidationErrors) {
    match object.get("text") {
        Some(Json::String(s)) => {
            if let Err(message) = check_text(s, MAX_TEXT) {
                errors.add("text", message);
            }
        }
        Some(_) => errors.add("text", "must be a string"),
        None => errors.add("text", "is required"),
    }
}

fn check_list(object: &Map<String, Json>, errors: &mut ValidationErrors) {
    let items = match object.get("items") {
        Some(Json::Array(items)) if items.len() <= MAX_ITEMS => items,
        Some(Json::Array(_)) => return errors.add("items", format!("must have at most {MAX_ITEMS} entries")),
        Some(_) => return errors.add("items", "must be a list"),
        None => return errors.add("items", "is required"),
    };
    for (i, item) in items.iter().enumerate() {
        let Some(item) = item.as_object() else {
            errors.add(format!("items[{i}]"), "must be an object with \"label\" and \"value\"");
            continue;
        };
        if let Err(message) = list_label(item.get("label")) {
            errors.add(format!("items[{i}].label"), message);
        }
        if let Err(message) = list_value(item.get("value")) {
            errors.add(format!("items[{i}].value"), message);
        }
    }
}

fn list_label(label: Option<&Json>) -> Result<(), String> {
    match label {
        Some(Json::String(label)) => check_text(label, MAX_LABEL),
        Some(_) => Err("must be a string".into()),
        None => Err("is required".into()),
    }
}

fn list_value(value: Option<&Json>) -> Result<(), String> {
    match value {
        Some(Json::String(value)) => check_text(value, MAX_LABEL),
        Some(Json::Number(_)) => Ok(()),
        Some(_) => Err("must be a string or a number".into()),
        None => Err("is required".into()),
    }
}

/// `columns`: optional headings; `rows`: lists of cells, each a string or a number.
fn check_table(object: &Map<String, Json>, errors: &mut ValidationErrors) {
    match object.get("columns") {
        None | Some(Json::Null) => {}
        Some(Json::Array(columns)) if columns.len() <= MAX_COLUMNS => {
            for (i, column) in columns.iter().enumerate() {
                if let Err(message) = list_label(Some(column)) {
                    errors.add(format!("columns[{i}]"), message);
                }
            }
        }
        Some(_) => errors.add("columns", format!("must be a list of at most {MAX_COLUMNS} strings")),
    }
    let rows = match object.get("rows") {
        Some(Json::Array(rows)) if rows.len() <= MAX_ROWS => rows,
        Some(Json::Array(rows)) => {
            return errors.add("rows", format!("has {} rows; at most {MAX_ROWS} are allowed", rows.len()));
        }
        Some(_) => return errors.add("rows", "must be a list of rows"),
        None => return errors.add("rows", "is required"),
    };
    for (r, row) in rows.iter().enumerate() {
        let cells = match row {
            Json::Array(cells) if cells.len() <= MAX_COLUMNS => cells,
            _ => {
                errors.add(format!("rows[{r}]"), format!("must be a list of at most {MAX_COLUMNS} cells"));
                continue;
            }
        };
        for (c, cell) in cells.iter().enumerate() {
            if let Err(message) = list_value(Some(cell)) {
                errors.add(format!("rows[{r}][{c}]"), message);
            }
        }
    }
}

/// `bars`: `{"label", "value"}` objects, value a finite number.
fn check_bars(object: &Map<String, Json>, errors: &mut ValidationErrors) {
    let bars = match object.get("bars") {
        Some(Json::Array(bars)) if bars.len() <= MAX_BARS => bars,
        Some(Json::Array(bars)) => {
            return errors.add("bars", format!("has {} bars; at most {MAX_BARS} are allowed", bars.len()));
        }
        Some(_) => return errors.add("bars", "must be a list"),
        None => return errors.add("bars", "is required"),
    };
    for (i, bar) in bars.iter().enumerate() {
        let Some(bar) = bar.as_object() else {
            errors.add(format!("bars[{i}]"), "must be an object with \"label\" and \"value\"");
            continue;
        };
        if let Err(message) = list_label(bar.get("label")) {
            errors.add(format!("bars[{i}].label"), message);
        }
        match bar.get("value") {
            Some(Json::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {}
            Some(_) => errors.add(format!("bars[{i}].value"), "must be a finite number"),
            None => errors.add(format!("bars[{i}].value"), "is required"),
        }
    }
}

fn check_image(object: &Map<String, Json>, errors: &mut ValidationErrors) {
    match object.get("url") {
        Some(Json::String(url)) => {
            if let Err(message) = ImageSource::parse(url) {
                errors.add("url", message);
            }
        }
        Some(_) => errors.add("url", "must be a string"),
        None => errors.add("url", "is required"),
    }
    optional_text(object, "alt", MAX_MESSAGE, errors);
}

fn check_clock(object: &Map<String, Json>, errors: &mut ValidationErrors) {
    match object.get("timezone") {
        None | Some(Json::Null) => {}
        Some(Json::String(name)) if name.parse::<chrono_tz::Tz>().is_ok() => {}
        Some(_) => errors.add("timezone", TIMEZONE_MESSAGE),
    }
}

/// What a timezone that is not an IANA name is told.
pub(super) const TIMEZONE_MESSAGE: &str = "must be an IANA timezone name, e.g. Europe/Berlin or UTC";

fn optional_text(object: &Map<String, Json>, name: &str, max_chars: usize, errors: &mut ValidationErrors) {
    match object.get(name) {
        None | Some(Json::Null) => {}
        Some(Json::String(text)) => {
            if let Err(message) = check_text(text, max_chars) {
                errors.add(name, message);
            }
        }
        Some(_) => errors.add(name, "must be a string"),
    }
}

fn check_status(object: &Map<String, Json>, errors: &mut ValidationErrors) {
    match object.get("status").and_then(Json::as_str) {
        Some("ok" | "warning" | "critical" | "unknown") => {}
        Some(_) | None if object.contains_key("status") => {
            errors.add("status", "must be one of ok, warning, critical, unknown")
        }
        _ => errors.add("status", "is required"),
    }
    optional_text(object, "message", MAX_MESSAGE, errors);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(kind: WidgetKind, json: Json) -> Result<Value, ValidationErrors> {
        Value::parse(kind, json)
    }

    #[test]
    fn text_boundary() {
        assert!(parse(WidgetKind::Text, json!({"text": "x".repeat(10_000)})).is_ok());
        assert!(parse(WidgetKind::Text, json!({"text": "x".repeat(10_001)})).unwrap_err().get("text").is_some());
    }

    #[test]
    fn list_boundary() {
        let items = |n| json!({"items": (0..n).map(|i| json!({"label": "l", "value": i})).collect::<Vec<_>>()});
        assert!(parse(WidgetKind::List, items(100)).is_ok());
        assert!(parse(WidgetKind::List, items(101)).unwrap_err().get("items").is_some());
        let e = parse(WidgetKind::List, json!({"items": [{"label": "a", "value": true}]})).unwrap_err();
        assert!(e.get("items[0].value").is_some() && e.get("items[0].label").is_none(), "{e:?}");
        let e = parse(WidgetKind::List, json!({"items": [{"label": 7, "value": "x".repeat(201)}, 3]})).unwrap_err();
        assert!(e.get("items[0].label").is_some() && e.get("items[0].value").is_some(), "{e:?}");
        assert!(e.get("items[1]").is_some(), "{e:?}");
    }

    #[test]
    fn numbers_must_be_finite_numbers() {
        assert!(parse(WidgetKind::Gauge, json!({"value": 73.5, "at": "2026-11-26T20:00:00Z", "note": "kept"})).is_ok());
        assert!(parse(WidgetKind::Number, json!({"value": "73"})).is_err());
        assert!(parse(WidgetKind::Line, json!({})).unwrap_err().get("value").is_some());
        assert!(parse(WidgetKind::Line, json!({"value": 1, "at": "yesterday"})).unwrap_err().get("at").is_some());
        let overflow: Json = serde_json::from_str(r#"{"value": 1e999}"#).unwrap_or(json!({"value": null}));
        assert!(parse(WidgetKind::Number, overflow).is_err());
    }

    #[test]
    fn numbers_out_of_range_are_refused_at_any_depth() {
        let e = parse(WidgetKind::Number, json!({"value": f64::MAX})).unwrap_err();
        assert!(e.get("value").is_some_and(|m| m.contains("out of range")), "{e:?}");
        let items = json!({"items": [{"label": "a", "value": 1}, {"label": "b", "value": -1e300}]});
        assert!(parse(WidgetKind::List, items).unwrap_err().get("items[1].value").is_some());
        let extra = json!({"status": "ok", "extra": {"a": [0, 1, 1e-300]}});
        assert!(parse(WidgetKind::Status, extra).unwrap_err().get("extra.a[2]").is_some());
        for bound in [1e18, -1e18, 1e-18, 0.0] {
            assert!(parse(WidgetKind::Gauge, json!({"value": bound})).is_ok(), "{bound}");
        }
    }

    #[test]
    fn table_boundaries_name_the_cell() {
        let table = |rows: usize, cols: usize| json!({"columns": ["a"], "rows": (0..rows).map(|r| (0..cols).map(|c| json!(r * c)).collect::<Vec<_>>()).collect::<Vec<_>>()});
        assert!(parse(WidgetKind::Table, table(100, 20)).is_ok());
        assert!(parse(WidgetKind::Table, table(101, 1)).unwrap_err().get("rows").is_some());
        assert!(parse(WidgetKind::Table, table(2, 21)).unwrap_err().get("rows[0]").is_some());
        let e = parse(WidgetKind::Table, json!({"rows": [[1], [2, 3, "x"], [4, 5, true]]})).unwrap_err();
        assert!(e.get("rows[2][2]").is_some() && e.iter().count() == 1, "{e:?}");
        let columns = json!({"columns": (0..21).map(|c| c.to_string()).collect::<Vec<_>>(), "rows": []});
        assert!(parse(WidgetKind::Table, columns).unwrap_err().get("columns").is_some());
        assert!(parse(WidgetKind::Table, json!({"columns": [1], "rows": []})).unwrap_err().get("columns[0]").is_some());
    }

    #[test]
    fn bar_boundaries_name_the_bar() {
        let bars = |n: usize| json!({"bars": (0..n).map(|i| json!({"label": "b", "value": i})).collect::<Vec<_>>()});
        assert!(parse(WidgetKind::Bar, bars(50)).is_ok());
        assert!(parse(WidgetKind::Bar, bars(51)).unwrap_err().get("bars").is_some());
        let e = parse(WidgetKind::Bar, json!({"bars": [{"label": "a", "value": 1}, {"label": 2, "value": "1"}, 3]}))
            .unwrap_err();
        for field in ["bars[1].label", "bars[1].value", "bars[2]"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        let overflow: Json = serde_json::from_str(r#"{"bars": [{"label": "a", "value": 1e999}]}"#)
            .unwrap_or(json!({"bars": [{"label": "a", "value": null}]}));
        assert!(parse(WidgetKind::Bar, overflow).is_err());
    }

    #[test]
    fn image_urls_and_their_hosts() {
        let data = |n: usize| json!({"url": format!("data:image/png;base64,{}", "A".repeat(n - 22)), "alt": "a"});
        assert!(parse(WidgetKind::Image, data(MAX_IMAGE_URL)).is_ok());
        assert!(parse(WidgetKind::Image, data(MAX_IMAGE_URL + 1)).unwrap_err().get("url").is_some());
        assert!(parse(WidgetKind::Image, json!({"url": "javascript:alert(1)"})).unwrap_err().get("url").is_some());
        assert!(
            parse(WidgetKind::Image, json!({"url": "https://a.example/x.png", "alt": 1}))
                .unwrap_err()
                .get("alt")
                .is_some()
        );
        let remote = parse(WidgetKind::Image, json!({"url": "https://a.example/x.png"})).unwrap();
        let hosts = ImageHosts::parse("a.example").unwrap();
        assert!(remote.check_image_host(&hosts).is_ok());
        let e = remote.check_image_host(&ImageHosts::parse("b.example").unwrap()).unwrap_err();
        assert!(e.get("url").is_some_and(|m| m.contains("a.example")), "{e:?}");
    }

    #[test]
    fn clock_timezones_are_iana_names() {
        assert!(parse(WidgetKind::Clock, json!({})).is_ok());
        assert!(parse(WidgetKind::Clock, json!({"timezone": "America/New_York"})).is_ok());
        assert!(parse(WidgetKind::Clock, json!({"timezone": "Mars/Olympus"})).unwrap_err().get("timezone").is_some());
    }

    #[test]
    fn status_values() {
        assert!(parse(WidgetKind::Status, json!({"status": "warning", "message": "disk 91%"})).is_ok());
        assert!(parse(WidgetKind::Status, json!({"status": "fine"})).unwrap_err().get("status").is_some());
        assert!(parse(WidgetKind::Status, json!({})).unwrap_err().get("status").is_some());
    }

    #[test]
    fn size_and_nul_limits() {
        assert!(parse(WidgetKind::Text, json!({"text": "a", "pad": "x".repeat(17_000)})).is_err());
        assert!(parse(WidgetKind::Text, json!({"text": "a\u{0}b"})).is_err());
        assert!(parse(WidgetKind::Number, json!({"value": 1, "k\u{0}": 1})).is_err());
        assert!(parse(WidgetKind::Number, json!([1])).is_err());
    }
}
