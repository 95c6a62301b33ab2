//! What a Smashing (or Dashing) job sends, as Dashboard's values: the field mapping of
//! `docs/smashing.md`, applied once at the edge so the values then go the way of any push.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value as Json};

use super::fields::ValidationErrors;
use super::slug::Slug;
use super::value::{MAX_BATCH, Value};
use super::widget::WidgetKind;

/// The largest `x` taken: the last second of year 9999, the last an RFC 3339 time can name.
const MAX_UNIX_SECONDS: f64 = 253_402_300_799.0;

/// The widget key (or board slug) a Smashing id names. Smashing ids are often snake_case, which
/// a key cannot be: `Karma_Points` is the key `karma-points`.
pub fn key_of_id(id: &str) -> Option<Slug> {
    Slug::parse(&id.to_ascii_lowercase().replace('_', "-")).ok()
}

/// The values a `send_event` body (without its `auth_token`) stands for on a widget of `kind`.
/// `newest` is the time of the widget's newest point: of a line's `points`, only later ones
/// become values, oldest first. Each value is checked as a pushed value is.
pub fn values(
    kind: WidgetKind,
    mut body: Map<String, Json>,
    newest: Option<DateTime<Utc>>,
) -> Result<Vec<Value>, ValidationErrors> {
    match kind {
        WidgetKind::Line if body.contains_key("points") => {
            let points = body.remove("points").unwrap_or_default();
            line_points(&points, &body, newest)
        }
        WidgetKind::Number | WidgetKind::Gauge | WidgetKind::Line => {
            rename_missing(&mut body, "current", "value");
            Ok(vec![Value::parse(kind, Json::Object(body))?])
        }
        WidgetKind::Status => {
            if body.get("status").and_then(Json::as_str) == Some("danger") {
                body.insert("status".into(), "critical".into());
            }
            rename_missing(&mut body, "text", "message");
            Ok(vec![Value::parse(kind, Json::Object(body))?])
        }
        WidgetKind::Table => {
            table_rows(&mut body);
            Ok(vec![Value::parse(kind, Json::Object(body))?])
        }
        WidgetKind::Text | WidgetKind::List | WidgetKind::Bar | WidgetKind::Image | WidgetKind::Clock => {
            Ok(vec![Value::parse(kind, Json::Object(body))?])
        }
    }
}

/// Smashing's table widget sends `hrows: [{"cols": [{"value"}…]}]` and `rows: [{"cols": [{"value"}…]}…]`:
/// the first header row becomes `columns`, each row its cells' values. A row or cell of another
/// shape is left as it is, for the table's own check to name.
fn table_rows(body: &mut Map<String, Json>) {
    fn cells(row: &Json) -> Option<Json> {
        let cols = row.get("cols")?.as_array()?;
        cols.iter().map(|col| col.get("value").cloned()).collect::<Option<Vec<_>>>().map(Json::Array)
    }
    if let Some(Json::Array(hrows)) = body.remove("hrows")
        && !body.contains_key("columns")
        && let Some(columns) = hrows.first().and_then(cells)
    {
        body.insert("columns".into(), columns);
    }
    if let Some(Json::Array(rows)) = body.get_mut("rows") {
        for row in rows.iter_mut() {
            if let Some(values) = cells(row) {
                *row = values;
            }
        }
    }
}

/// Moves `from` to `to` unless `to` is given as well (then both are kept as they are).
fn rename_missing(body: &mut Map<String, Json>, from: &str, to: &str) {
    if !body.contains_key(to)
        && let Some(value) = body.remove(from)
    {
        body.insert(to.into(), value);
    }
}

/// `points: [{"x": unix seconds, "y": number}…]`: one value per point newer than `newest`, in
/// time order, each with the body's other fields.
fn line_points(
    points: &Json,
    rest: &Map<String, Json>,
    newest: Option<DateTime<Utc>>,
) -> Result<Vec<Value>, ValidationErrors> {
    let Json::Array(points) = points else {
        return Err(ValidationErrors::single("points", "must be a list of {\"x\": unix seconds, \"y\": number}"));
    };
    if points.len() > MAX_BATCH {
        let message = format!(
            "holds {} points; one request takes at most {MAX_BATCH}, the batch limit of POST /dashboard/events",
            points.len()
        );
        return Err(ValidationErrors::single("points", message));
    }
    let mut errors = ValidationErrors::default();
    let mut parsed = Vec::with_capacity(points.len());
    for (i, point) in points.iter().enumerate() {
        match point_at(point) {
            Ok((at, y)) => parsed.push((i, at, y)),
            Err(point_errors) => errors.merge(point_errors.nested(&format!("points[{i}]."))),
        }
    }
    parsed.sort_by_key(|(_, at, _)| *at);
    let mut values = Vec::new();
    for (i, at, y) in parsed.into_iter().filter(|(_, at, _)| newest.is_none_or(|newest| *at > newest)) {
        let mut value = rest.clone();
        value.insert("value".into(), y);
        value.insert("at".into(), at.to_rfc3339_opts(SecondsFormat::AutoSi, true).into());
        match Value::parse(WidgetKind::Line, Json::Object(value)) {
            Ok(value) => values.push(value),
            Err(value_errors) => errors.merge(value_errors.nested(&format!("points[{i}]."))),
        }
    }
    errors.into_result(values)
}

/// A point's time (`x`, unix seconds) and its `y`.
fn point_at(point: &Json) -> Result<(DateTime<Utc>, Json), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let at = match point.get("x").and_then(Json::as_f64) {
        Some(x) if (0.0..=MAX_UNIX_SECONDS).contains(&x) => {
            // In range, so the casts are exact for the seconds and bounded for the nanoseconds.
            DateTime::from_timestamp(x.trunc() as i64, (x.fract() * 1e9) as u32)
        }
        _ => None,
    };
    if at.is_none() {
        errors.add("x", format!("must be a time in unix seconds, 0 to {MAX_UNIX_SECONDS}"));
    }
    let y = point.get("y").filter(|y| y.is_number());
    if y.is_none() {
        errors.add("y", "must be a number");
    }
    match (at, y) {
        (Some(at), Some(y)) if errors.is_empty() => Ok((at, y.clone())),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(json: Json) -> Map<String, Json> {
        json.as_object().cloned().unwrap_or_default()
    }

    fn mapped(kind: WidgetKind, body: Json) -> Vec<Json> {
        values(kind, map(body), None).unwrap().into_iter().map(Value::into_json).collect()
    }

    #[test]
    fn smashing_table_rows_become_cells() {
        let body = json!({"hrows": [{"cols": [{"value": "Host"}, {"value": "Load"}]}],
                          "rows": [{"cols": [{"value": "a"}, {"value": 1.5}]}, {"cols": [{"value": "b"}, {"value": 2}]}]});
        assert_eq!(
            mapped(WidgetKind::Table, body),
            [json!({"columns": ["Host", "Load"], "rows": [["a", 1.5], ["b", 2]]})]
        );
        let e = values(WidgetKind::Table, map(json!({"rows": [{"cols": [{"value": true}]}]})), None).unwrap_err();
        assert!(e.get("rows[0][0]").is_some(), "{e:?}");
    }

    #[test]
    fn smashing_ids_become_keys() {
        assert_eq!(key_of_id("Karma_Points").unwrap().as_str(), "karma-points");
        assert_eq!(key_of_id("valuation").unwrap().as_str(), "valuation");
        assert!(key_of_id("a b").is_none() && key_of_id("").is_none() && key_of_id("_x").is_none());
    }

    #[test]
    fn numbers_take_current_and_keep_last() {
        let body = json!({"current": 12, "last": 10, "min": 0, "max": 99});
        assert_eq!(mapped(WidgetKind::Number, body), [json!({"value": 12, "last": 10, "min": 0, "max": 99})]);
        assert_eq!(mapped(WidgetKind::Gauge, json!({"value": 7})), [json!({"value": 7})]);
        let both = json!({"value": 1, "current": 2});
        assert_eq!(mapped(WidgetKind::Number, both.clone()), [both]);
        let e = values(WidgetKind::Number, map(json!({"current": [1, 2]})), None).unwrap_err();
        assert!(e.get("value").is_some(), "{e:?}");
    }

    #[test]
    fn status_takes_danger_as_critical_and_text_as_message() {
        let body = json!({"status": "danger", "text": "disk full"});
        assert_eq!(mapped(WidgetKind::Status, body), [json!({"status": "critical", "message": "disk full"})]);
        assert!(values(WidgetKind::Status, map(json!({"status": "purple"})), None).is_err());
    }

    #[test]
    fn points_newer_than_the_newest_become_values_in_time_order() {
        let points = json!({"points": [{"x": 30, "y": 3}, {"x": 10, "y": 1}, {"x": 20.5, "y": 2}], "note": "kept"});
        let newest = DateTime::from_timestamp(10, 0);
        let got: Vec<Json> =
            values(WidgetKind::Line, map(points), newest).unwrap().into_iter().map(Value::into_json).collect();
        assert_eq!(
            got,
            [
                json!({"value": 2, "at": "1970-01-01T00:00:20.500Z", "note": "kept"}),
                json!({"value": 3, "at": "1970-01-01T00:00:30Z", "note": "kept"}),
            ]
        );
        assert_eq!(mapped(WidgetKind::Line, json!({"current": 4})), [json!({"value": 4})]);
    }

    #[test]
    fn bad_points_are_named() {
        let points = json!({"points": [{"x": "noon", "y": 1}, {"x": 1, "y": "2"}, {"x": -1, "y": 1}, 7]});
        let e = values(WidgetKind::Line, map(points), None).unwrap_err();
        for field in ["points[0].x", "points[1].y", "points[2].x", "points[3].x", "points[3].y"] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        let many = json!({"points": (0..=MAX_BATCH).map(|x| json!({"x": x, "y": 1})).collect::<Vec<_>>()});
        let e = values(WidgetKind::Line, map(many), None).unwrap_err();
        assert!(e.get("points").is_some_and(|m| m.contains("1000")), "{e:?}");
        assert!(values(WidgetKind::Line, map(json!({"points": {"x": 1}})), None).is_err());
    }
}
