use std::fmt;
use std::str::FromStr;

use serde_json::Value as Json;

use super::board::{MAX_TITLE, slug_field};
use super::fields::{Fields, ValidationErrors};
use super::slug::Slug;
use super::widget_config::WidgetConfig;

/// Declares the widget kinds, each with its name in the API, the database and the pages, so
/// that a new kind is one line here (docs/architecture.md lists what else it touches).
macro_rules! widget_kinds {
    ($first:ident => $first_name:literal $(, $kind:ident => $name:literal)* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum WidgetKind {
            #[serde(rename = $first_name)]
            $first,
            $(#[serde(rename = $name)] $kind,)*
        }

        impl WidgetKind {
            pub const ALL: &'static [WidgetKind] = &[Self::$first $(, Self::$kind)*];

            /// What a name that is not a kind is told.
            pub const EXPECTED: &'static str = concat!("must be one of ", $first_name $(, ", ", $name)*);

            pub fn as_str(self) -> &'static str {
                match self {
                    Self::$first => $first_name,
                    $(Self::$kind => $name,)*
                }
            }
        }
    };
}

widget_kinds! {
    Number => "number",
    Gauge => "gauge",
    Line => "line",
    Text => "text",
    List => "list",
    Status => "status",
    Table => "table",
    Bar => "bar",
    Image => "image",
    Clock => "clock",
}

impl FromStr for WidgetKind {
    type Err = &'static str;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|k| k.as_str() == raw).ok_or(Self::EXPECTED)
    }
}

/// A stored kind: one this version does not know is an error, never a fallback.
impl TryFrom<String> for WidgetKind {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.parse().map_err(|expected| format!("unknown widget kind {raw:?}: {expected}"))
    }
}

impl fmt::Display for WidgetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Highest `position` a widget may have (its place in the board's order).
pub const MAX_POSITION: i64 = 10_000;

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
            Some(_) => f.fail("kind", WidgetKind::EXPECTED),
            None => f.fail("kind", "is required"),
        };
        let config = config_field(&mut f).unwrap_or_default();
        let position = f.integer("position", 0, MAX_POSITION).map(|n| n as i32);
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
            position: f.integer("position", 0, MAX_POSITION).map(|n| n as i32),
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
    fn kinds_are_named_alike_everywhere() {
        assert_eq!(
            WidgetKind::EXPECTED,
            "must be one of number, gauge, line, text, list, status, table, bar, image, clock"
        );
        for kind in WidgetKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(*kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
        assert!(WidgetKind::try_from("pie".to_string()).unwrap_err().contains("\"pie\""));
    }

    #[test]
    fn unknown_kind_and_kind_change_are_refused() {
        assert!(NewWidget::parse(&json!({"key": "a", "title": "A", "kind": "pie"})).unwrap_err().get("kind").is_some());
        assert!(WidgetPatch::parse(&json!({"kind": "text"})).unwrap_err().get("kind").is_some());
    }
}
