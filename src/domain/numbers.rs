//! The range every number a client stores must lie in, anywhere in a value or a widget config.
//!
//! PostgreSQL's jsonb prints numbers without exponents: `1e300` comes back as 301 digits and
//! `1e-300` as 300 zeros and a one. Bounding magnitudes to [1e-18, 1e18] (or exactly 0) keeps a
//! stored value's text close to what was sent (a 16 KiB value cannot expand to megabytes), keeps
//! every stored number readable back as a double, and keeps numbers readable on a wall screen.

use serde_json::{Map, Number, Value as Json};

use super::fields::ValidationErrors;

/// Largest magnitude a stored number may have.
const MAX_MAGNITUDE: f64 = 1e18;
/// Smallest magnitude of a stored number other than 0.
const MIN_MAGNITUDE: f64 = 1e-18;
/// [`MAX_MAGNITUDE`] as an integer, so that integers are compared exactly.
const MAX_INTEGER: u64 = 1_000_000_000_000_000_000;

const OUT_OF_RANGE: &str = "is out of range: a number must be 0 or have a magnitude from 1e-18 to 1e18";

/// Adds an error for every number in the object `json` outside the range, named by its path
/// (`max`, `thresholds[0].value`).
pub fn check_numbers(json: &Json, errors: &mut ValidationErrors) {
    walk(json, &mut Vec::new(), errors);
}

/// [`check_numbers`] for an object already taken apart (`value`, `items[3].value`, `extra.a[2]`).
pub fn check_object_numbers(map: &Map<String, Json>, errors: &mut ValidationErrors) {
    walk_object(map, &mut Vec::new(), errors);
}

/// One step of the path to a number; the path is spelled out only for a number out of range,
/// so a valid value costs no allocation per field.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn walk<'a>(json: &'a Json, path: &mut Vec<Step<'a>>, errors: &mut ValidationErrors) {
    match json {
        Json::Number(n) if !in_range(n) => errors.add(field_name(path), OUT_OF_RANGE),
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk(item, path, errors);
                path.pop();
            }
        }
        Json::Object(map) => walk_object(map, path, errors),
        _ => {}
    }
}

fn walk_object<'a>(map: &'a Map<String, Json>, path: &mut Vec<Step<'a>>, errors: &mut ValidationErrors) {
    for (key, value) in map {
        path.push(Step::Key(key));
        walk(value, path, errors);
        path.pop();
    }
}

fn field_name(path: &[Step<'_>]) -> String {
    let mut name = String::new();
    for step in path {
        match step {
            Step::Key(key) if name.is_empty() => name.push_str(key),
            Step::Key(key) => {
                name.push('.');
                name.push_str(key);
            }
            Step::Index(i) => name.push_str(&format!("[{i}]")),
        }
    }
    name
}

fn in_range(n: &Number) -> bool {
    if let Some(i) = n.as_i64() {
        return i.unsigned_abs() <= MAX_INTEGER;
    }
    if let Some(u) = n.as_u64() {
        return u <= MAX_INTEGER;
    }
    let x = n.as_f64().unwrap_or(f64::NAN).abs();
    x == 0.0 || (MIN_MAGNITUDE..=MAX_MAGNITUDE).contains(&x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(json: Json) -> ValidationErrors {
        let mut errors = ValidationErrors::default();
        check_numbers(&json, &mut errors);
        errors
    }

    #[test]
    fn numbers_at_the_bounds_are_accepted() {
        let bounds = json!({"a": 1e18, "b": -1e18, "c": 1e-18, "d": -1e-18, "e": 0, "f": 0.0, "g": -0.0,
                            "h": 1_000_000_000_000_000_000_i64, "i": -1_000_000_000_000_000_000_i64, "j": 1});
        assert!(errors_of(bounds).is_empty());
    }

    #[test]
    fn numbers_past_the_bounds_are_named_by_their_path() {
        let errors = errors_of(json!({
            "value": f64::MAX, "small": 1e-19, "big_int": 1_000_000_000_000_000_001_u64, "neg_int": i64::MIN,
            "items": [{"label": "a", "value": 1}, {"label": "b", "value": -1.5e18}],
            "extra": {"a": [1, 2, 1e300]}, "ok": 3.5
        }));
        for field in ["value", "small", "big_int", "neg_int", "items[1].value", "extra.a[2]"] {
            assert_eq!(errors.get(field), Some(OUT_OF_RANGE), "{field}: {errors:?}");
        }
        assert_eq!(errors.iter().count(), 6, "{errors:?}");
    }
}
