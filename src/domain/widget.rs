use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value as Json};

use super::board::{MAX_TITLE, slug_field};
use super::fields::{Fields, ValidationErrors};
use super::numbers::check_numbers;
use super::slug::Slug;
use super::source;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WidgetKind {
    Number,
    Gauge,
    Line,
    Text,
    List,
    Status,
}

impl WidgetKind {
    pub const ALL: [WidgetKind; 6] = [Self::Number, Self::Gauge, Self::Line, Self::Text, Self::List, Self::Status];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::Gauge => "gauge",
            Self::Line => "line",
            Self::Text => "text",
            Self::List => "list",
            Self::Status => "status",
        }
    }
}

impl FromStr for WidgetKind {
    type Err = &'static str;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or("must be one of number, gauge, line, text, list, status")
    }
}

impl fmt::Display for WidgetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tallest row span a widget can ask for (`config.height`); the stylesheet has a class per span.
pub const MAX_HEIGHT: i64 = 6;

/// A widget's `config` object: the known keys checked, other keys kept as given, and
/// every number in it within the range of `numbers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WidgetConfig(Map<String, Json>);

impl WidgetConfig {
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json).map_err(|_| ValidationErrors::single("config", "must be a JSON object"))?;
        f.string("unit", 32);
        f.integer("decimals", 0, 10);
        f.integer("max_points", 1, 10_000);
        f.integer("stale_after", 1, 31_536_000);
        f.integer("width", 1, 12);
        f.integer("height", 1, MAX_HEIGHT);
        let min = number_field(&mut f, "min");
        let max = number_field(&mut f, "max");
        if let (Some(min), Some(max)) = (min, max)
            && min >= max
        {
            f.fail::<()>("max", "must be greater than min");
        }
        if let Some(thresholds) = f.raw("thresholds") {
            check_thresholds(&mut f, thresholds);
        }
        let source = f.raw("source").and_then(|source| {
            source::canonical(source).map_err(|errors| f.errors.merge(errors.nested("source."))).ok()
        });
        check_numbers(json, &mut f.errors);
        let mut errors = f.errors.nested("config.");
        if contains_nul(json) {
            errors.add("config", NUL_MESSAGE);
        }
        let mut config = json.as_object().cloned().unwrap_or_default();
        if let Some(source) = source {
            config.insert("source".into(), source);
        }
        errors.into_result(Self(config))
    }

    pub fn as_json(&self) -> Json {
        Json::Object(self.0.clone())
    }

    /// See [`source::keep_stored_headers`]: an edit that does not give the source's headers
    /// keeps the stored ones.
    pub fn keep_source_headers(&mut self, stored: &Json) -> Result<(), ValidationErrors> {
        source::keep_stored_headers(&mut self.0, stored)
    }

    pub fn max_points(&self) -> i64 {
        self.0.get("max_points").and_then(Json::as_i64).unwrap_or(100)
    }
}

fn number_field(f: &mut Fields<'_>, name: &str) -> Option<f64> {
    match f.raw(name)?.as_f64() {
        Some(n) if n.is_finite() => Some(n),
        _ => f.fail(name, "must be a number"),
    }
}

/// `thresholds`: `[{"value": 80, "color": "#e5a50a"}, …]`, at most 10; colours are `#hex` or a CSS name.
fn check_thresholds(f: &mut Fields<'_>, thresholds: &Json) {
    let Some(items) = thresholds.as_array().filter(|items| items.len() <= 10) else {
        f.fail::<()>("thresholds", "must be a list of at most 10 {\"value\", \"color\"} objects");
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let value_ok = item.get("value").and_then(Json::as_f64).is_some_and(f64::is_finite);
        let color_ok = item.get("color").and_then(Json::as_str).is_some_and(is_css_color);
        if !value_ok || !color_ok {
            f.fail::<()>(
                &format!("thresholds[{i}]"),
                "needs a number \"value\" and a \"color\" (#hex or a colour name)",
            );
        }
    }
}

pub fn is_css_color(raw: &str) -> bool {
    let hex = raw
        .strip_prefix('#')
        .is_some_and(|h| matches!(h.len(), 3 | 4 | 6 | 8) && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let name = (1..=20).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase());
    hex || name
}

pub(super) const NUL_MESSAGE: &str = "strings must not contain NUL characters";

/// Whether a NUL character hides in any string or key: PostgreSQL's jsonb refuses it, so it is
/// a validation error, not a 500.
pub(super) fn contains_nul(json: &Json) -> bool {
    match json {
        Json::String(s) => s.contains('\0'),
        Json::Array(items) => items.iter().any(contains_nul),
        Json::Object(map) => map.iter().any(|(key, value)| key.contains('\0') || contains_nul(value)),
        _ => false,
    }
}

#[derive(Debug, Clone)]
pub struct NewWidget {
    pub key: Slug,
    pub title: String,
    pub kind: WidgetKind,
    pub config: WidgetConfig,
    pub position: Option<i32>,
}

#[derive(Debug, Clone, Default)]
pub struct WidgetPatch {
    pub key: Option<Slug>,
    pub title: Option<String>,
    pub config: Option<WidgetConfig>,
    pub position: Option<i32>,
}

impl NewWidget {
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json)?;
        let key = slug_field(&mut f, "key");
        let title = f.required_string("title", 1, MAX_TITLE);
        let kind = match f.raw("kind").map(|k| k.as_str().map(str::parse::<WidgetKind>)) {
            Some(Some(Ok(kind))) => Some(kind),
            Some(_) => f.fail("kind", "must be one of number, gauge, line, text, list, status"),
            None => f.fail("kind", "is required"),
        };
        let config = config_field(&mut f).unwrap_or_default();
        let position = f.integer("position", 0, 10_000).map(|n| n as i32);
        let errors = f.errors;
        match (key, title, kind) {
            (Some(key), Some(title), Some(kind)) if errors.is_empty() => {
                Ok(Self { key, title, kind, config, position })
            }
            _ => Err(errors),
        }
    }
}

impl WidgetPatch {
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json)?;
        if f.raw("kind").is_some() {
            f.fail::<()>("kind", "cannot be changed: its history would no longer fit; create a new widget");
        }
        let patch = Self {
            key: f.raw("key").and_then(|_| slug_field(&mut f, "key")),
            title: f.raw("title").and_then(|_| f.required_string("title", 1, MAX_TITLE)),
            config: config_field(&mut f),
            position: f.integer("position", 0, 10_000).map(|n| n as i32),
        };
        f.errors.into_result(patch)
    }
}

fn config_field(f: &mut Fields<'_>) -> Option<WidgetConfig> {
    let raw = f.raw("config")?;
    WidgetConfig::parse(raw).map_err(|e| f.errors.merge(e)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_full_widget() {
        let w = NewWidget::parse(&json!({
            "key": "cpu", "title": "CPU", "kind": "gauge",
            "config": {"min": 0, "max": 100, "unit": "%", "thresholds": [{"value": 80, "color": "#e01b24"}], "extra": true}
        }))
        .unwrap();
        assert_eq!(w.kind, WidgetKind::Gauge);
        assert_eq!(w.config.as_json()["extra"], json!(true));
    }

    #[test]
    fn config_errors_are_nested() {
        let e = NewWidget::parse(&json!({
            "key": "cpu", "title": "CPU", "kind": "line",
            "config": {"min": 5, "max": 1, "max_points": 0, "height": 7, "source": {"url": "ftp://x", "interval_s": 1, "pointer": "a"}}
        }))
        .unwrap_err();
        for field in [
            "config.height",
            "config.max",
            "config.max_points",
            "config.source.url",
            "config.source.interval_s",
            "config.source.pointer",
        ] {
            assert!(e.get(field).is_some(), "{field} missing in {e:?}");
        }
    }

    #[test]
    fn unknown_kind_and_kind_change_are_refused() {
        assert!(NewWidget::parse(&json!({"key": "a", "title": "A", "kind": "pie"})).unwrap_err().get("kind").is_some());
        assert!(WidgetPatch::parse(&json!({"kind": "text"})).unwrap_err().get("kind").is_some());
    }

    #[test]
    fn a_nul_anywhere_in_the_config_is_named_on_config() {
        let e = WidgetConfig::parse(&json!({"unit": "ok", "deep": [{"k\u{0}": 1}]})).unwrap_err();
        assert_eq!(e.get("config"), Some(NUL_MESSAGE), "{e:?}");
    }

    #[test]
    fn numbers_out_of_range_are_named_anywhere_in_the_config() {
        let e = WidgetConfig::parse(&json!({
            "min": 0, "max": f64::MAX, "thresholds": [{"value": 1e-300, "color": "red"}], "custom": {"k": [1e19]}
        }))
        .unwrap_err();
        for field in ["config.max", "config.thresholds[0].value", "config.custom.k[0]"] {
            assert!(e.get(field).is_some_and(|m| m.contains("out of range")), "{field} missing in {e:?}");
        }
        assert!(WidgetConfig::parse(&json!({"min": -1e18, "max": 1e18, "step": 1e-18})).is_ok());
    }

    #[test]
    fn css_colors() {
        assert!(is_css_color("#fff") && is_css_color("red") && is_css_color("#00ff0080"));
        assert!(!is_css_color("red;background:url(x)") && !is_css_color("#ggg") && !is_css_color(""));
    }
}
