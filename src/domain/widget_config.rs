//! A widget's `config`: the object kept whole as it was given (keys this version does not know
//! round-trip through the API), and its known keys read once into types.
//!
//! [`ConfigKeys::read`] is the one place a key is declared: its name, type and range. A
//! request's config is read through it and refused when a key does not fit; a stored config is
//! read through it leniently (it was checked on write), so a key that no longer fits reads as
//! unset. A key a new widget kind needs is a field and a line there.

use serde_json::{Map, Value as Json};

use super::fields::{Fields, ValidationErrors};
use super::numbers::check_numbers;
use super::source::{self, Source};
use super::value::TIMEZONE_MESSAGE;
use super::widget::{NUL_MESSAGE, contains_nul};
use chrono_tz::Tz;

/// Widest column span a widget can ask for (`config.width`); a board fits it to its columns.
pub const MAX_WIDTH: i64 = 12;

/// Tallest row span a widget can ask for (`config.height`); the stylesheet has a class per span.
pub const MAX_HEIGHT: i64 = 6;

/// Points a line chart keeps when `max_points` is not set.
const DEFAULT_MAX_POINTS: i64 = 100;

/// A gauge's scale when `min` or `max` is not set.
const DEFAULT_SCALE: (f64, f64) = (0.0, 100.0);

#[derive(Debug, Clone, Default)]
pub struct WidgetConfig {
    given: Map<String, Json>,
    keys: ConfigKeys,
}

/// The known keys as set; `None` (or empty) when a key is not set.
#[derive(Debug, Clone, Default)]
pub struct ConfigKeys {
    pub unit: Option<String>,
    pub decimals: Option<i64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// In the order given.
    pub thresholds: Vec<Threshold>,
    pub max_points: Option<i64>,
    pub stale_after: Option<i64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// A bar chart's bars run left to right instead of bottom up.
    pub horizontal: Option<bool>,
    /// How an image fills its card: `contain` or `cover`.
    pub fit: Option<&'static str>,
    pub timezone: Option<Tz>,
    /// A clock's `24h` or `12h`.
    pub format: Option<&'static str>,
    /// Whether a clock shows seconds.
    pub seconds: Option<bool>,
    /// Whether a number draws its last `max_points` values under it.
    pub sparkline: Option<bool>,
    /// A stored source that no longer parses is kept as its errors, for the pull job to report.
    pub source: Option<Result<Source, ValidationErrors>>,
}

/// `{"value": 80, "color": "#e5a50a"}`: from `value` up, a gauge takes `color`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub value: f64,
    pub color: String,
}

impl ConfigKeys {
    /// Reads every known key, adding to `f.errors` what does not fit (a source's own errors
    /// are kept in `source`).
    fn read(f: &mut Fields<'_>) -> Self {
        let min = number_field(f, "min");
        let max = number_field(f, "max");
        if let (Some(min), Some(max)) = (min, max)
            && min >= max
        {
            f.fail::<()>("max", "must be greater than min");
        }
        Self {
            unit: f.string("unit", 32),
            decimals: f.integer("decimals", 0, 10),
            min,
            max,
            thresholds: f.raw("thresholds").map(|raw| thresholds(f, raw)).unwrap_or_default(),
            max_points: f.integer("max_points", 1, 10_000),
            stale_after: f.integer("stale_after", 1, 31_536_000),
            width: f.integer("width", 1, MAX_WIDTH),
            height: f.integer("height", 1, MAX_HEIGHT),
            horizontal: f.boolean("horizontal"),
            fit: f.choice("fit", &["contain", "cover"]),
            timezone: timezone_field(f),
            format: f.choice("format", &["24h", "12h"]),
            seconds: f.boolean("seconds"),
            sparkline: f.boolean("sparkline"),
            source: f.raw("source").map(source::parse),
        }
    }

    /// Leniently, for a config that was checked when it was written.
    fn read_stored(given: &Map<String, Json>) -> Self {
        Self::read(&mut Fields::of_object(given))
    }
}

impl WidgetConfig {
    /// A request's config: every known key checked, every number in range of `numbers`, the
    /// source stored in its canonical form.
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json).map_err(|_| ValidationErrors::single("config", "must be a JSON object"))?;
        let keys = ConfigKeys::read(&mut f);
        let mut given = json.as_object().cloned().unwrap_or_default();
        if let Some(raw) = f.raw("source") {
            match source::canonical(raw) {
                Ok(stored) => _ = given.insert("source".into(), stored),
                Err(errors) => f.errors.merge(errors.nested("source.")),
            }
        }
        check_numbers(json, &mut f.errors);
        let mut errors = f.errors.nested("config.");
        if contains_nul(json) {
            errors.add("config", NUL_MESSAGE);
        }
        errors.into_result(Self { given, keys })
    }

    /// A stored config; one that is not an object reads as empty.
    pub fn from_stored(json: Json) -> Self {
        let given = match json {
            Json::Object(given) => given,
            _ => Map::new(),
        };
        Self { keys: ConfigKeys::read_stored(&given), given }
    }

    /// The object as it is stored.
    pub fn as_map(&self) -> &Map<String, Json> {
        &self.given
    }

    pub fn as_json(&self) -> Json {
        Json::Object(self.given.clone())
    }

    /// As the public sees it: see [`source::public_config`].
    pub fn public_json(&self) -> Json {
        source::public_config(&self.given)
    }

    /// As management views see it: see [`source::managed_config`].
    pub fn managed_json(&self) -> Json {
        source::managed_config(&self.given)
    }

    /// See [`source::keep_stored_headers`]: an edit that does not give the source's headers
    /// keeps the stored ones.
    pub fn keep_source_headers(&mut self, stored: &WidgetConfig) -> Result<(), ValidationErrors> {
        source::keep_stored_headers(&mut self.given, &stored.given)?;
        self.keys.source = self.given.get("source").map(source::parse);
        Ok(())
    }

    /// The known keys as set, for a form that shows what was given.
    pub fn keys(&self) -> &ConfigKeys {
        &self.keys
    }

    pub fn unit(&self) -> &str {
        self.keys.unit.as_deref().unwrap_or_default()
    }

    pub fn decimals(&self) -> Option<usize> {
        self.keys.decimals.and_then(|d| usize::try_from(d).ok())
    }

    /// A gauge's `(min, max)`.
    pub fn scale(&self) -> (f64, f64) {
        (self.keys.min.unwrap_or(DEFAULT_SCALE.0), self.keys.max.unwrap_or(DEFAULT_SCALE.1))
    }

    pub fn thresholds(&self) -> &[Threshold] {
        &self.keys.thresholds
    }

    /// The points a line chart keeps.
    pub fn max_points(&self) -> i64 {
        self.keys.max_points.unwrap_or(DEFAULT_MAX_POINTS)
    }

    /// Seconds after which the latest value is shown as stale; `None`: never.
    pub fn stale_after(&self) -> Option<i64> {
        self.keys.stale_after
    }

    /// Column span; the board fits it to its columns.
    pub fn width(&self) -> i64 {
        self.keys.width.unwrap_or(1)
    }

    /// Column span on a board of this many columns.
    pub fn width_within(&self, columns: i64) -> i64 {
        self.width().clamp(1, columns.max(1))
    }

    /// Row span.
    pub fn height(&self) -> i64 {
        self.keys.height.unwrap_or(1).clamp(1, MAX_HEIGHT)
    }

    pub fn horizontal(&self) -> bool {
        self.keys.horizontal.unwrap_or(false)
    }

    /// An image's `object-fit`.
    pub fn fit(&self) -> &'static str {
        self.keys.fit.unwrap_or("contain")
    }

    pub fn timezone(&self) -> Tz {
        self.keys.timezone.unwrap_or(Tz::UTC)
    }

    pub fn twelve_hour(&self) -> bool {
        self.keys.format == Some("12h")
    }

    pub fn seconds(&self) -> bool {
        self.keys.seconds.unwrap_or(false)
    }

    pub fn sparkline(&self) -> bool {
        self.keys.sparkline.unwrap_or(false)
    }

    /// The pull source, if the widget has one.
    pub fn source(&self) -> Option<&Result<Source, ValidationErrors>> {
        self.keys.source.as_ref()
    }

    /// The names of the stored source's headers (their values are never shown).
    pub fn source_header_names(&self) -> Vec<String> {
        self.given.get("source").and_then(Json::as_object).map(source::header_names).unwrap_or_default()
    }
}

fn timezone_field(f: &mut Fields<'_>) -> Option<Tz> {
    match f.raw("timezone")?.as_str().map(str::parse::<Tz>) {
        Some(Ok(tz)) => Some(tz),
        _ => f.fail("timezone", TIMEZONE_MESSAGE),
    }
}

fn number_field(f: &mut Fields<'_>, name: &str) -> Option<f64> {
    match f.raw(name)?.as_f64() {
        Some(n) if n.is_finite() => Some(n),
        _ => f.fail(name, "must be a number"),
    }
}

/// `thresholds`: `[{"value": 80, "color": "#e5a50a"}, …]`, at most 10; colours are `#hex` or a
/// CSS name. Returns the items that fit.
fn thresholds(f: &mut Fields<'_>, raw: &Json) -> Vec<Threshold> {
    let Some(items) = raw.as_array().filter(|items| items.len() <= 10) else {
        f.fail::<()>("thresholds", "must be a list of at most 10 {\"value\", \"color\"} objects");
        return Vec::new();
    };
    let mut read = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let value = item.get("value").and_then(Json::as_f64).filter(|v| v.is_finite());
        let color = item.get("color").and_then(Json::as_str).filter(|c| is_css_color(c));
        match (value, color) {
            (Some(value), Some(color)) => read.push(Threshold { value, color: color.to_string() }),
            _ => {
                let message = "needs a number \"value\" and a \"color\" (#hex or a colour name)";
                f.fail::<()>(&format!("thresholds[{i}]"), message);
            }
        }
    }
    read
}

fn is_css_color(raw: &str) -> bool {
    let hex = raw
        .strip_prefix('#')
        .is_some_and(|h| matches!(h.len(), 3 | 4 | 6 | 8) && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let name = (1..=20).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase());
    hex || name
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn known_keys_are_typed_and_unknown_ones_kept() {
        let given = json!({
            "unit": "%", "decimals": 1, "min": -5, "max": 5.5, "max_points": 60, "stale_after": 30,
            "width": 2, "height": 3, "thresholds": [{"value": 4, "color": "red"}], "extra": {"a": [1]},
            "source": {"url": "https://example.com/v", "interval_s": 60, "pointer": "/v", "headers": {"X-Key": "k"}}
        });
        let config = WidgetConfig::parse(&given).unwrap();
        assert_eq!((config.unit(), config.decimals(), config.scale()), ("%", Some(1), (-5.0, 5.5)));
        assert_eq!((config.max_points(), config.stale_after(), config.width(), config.height()), (60, Some(30), 2, 3));
        assert_eq!(config.thresholds(), [Threshold { value: 4.0, color: "red".into() }]);
        let source = config.source().unwrap().as_ref().unwrap();
        assert_eq!(
            (source.url.as_str(), source.interval_s, source.pointer.as_str()),
            ("https://example.com/v", 60, "/v")
        );
        assert_eq!(config.source_header_names(), ["x-key"]);
        assert_eq!(config.as_json()["extra"], json!({"a": [1]}));
        assert_eq!(config.public_json().get("source"), None);
    }

    #[test]
    fn unset_keys_read_as_their_one_default() {
        let config = WidgetConfig::from_stored(json!({}));
        assert_eq!((config.unit(), config.decimals(), config.scale()), ("", None, (0.0, 100.0)));
        assert_eq!((config.max_points(), config.stale_after(), config.width(), config.height()), (100, None, 1, 1));
        assert!(config.thresholds().is_empty() && config.source().is_none());
        assert_eq!(WidgetConfig::from_stored(json!([1])).as_json(), json!({}), "not an object reads as empty");
    }

    #[test]
    fn a_stored_key_that_no_longer_fits_reads_as_unset_and_is_kept() {
        let stored = json!({"max_points": 0, "unit": 5, "thresholds": [{"value": 1, "color": "red"}, {"value": 2}],
                            "source": {"url": "ftp://x", "interval_s": 60, "pointer": "/v"}});
        let config = WidgetConfig::from_stored(stored.clone());
        assert_eq!((config.max_points(), config.unit(), config.thresholds().len()), (100, "", 1));
        assert!(config.source().unwrap().as_ref().unwrap_err().get("url").is_some());
        assert_eq!(config.as_json(), stored);
    }

    #[test]
    fn kept_source_headers_reach_the_typed_source() {
        let source = json!({"url": "https://example.com/v", "interval_s": 60, "pointer": "/v"});
        let stored = WidgetConfig::parse(&json!({"source": {"headers": {"X-Key": "k"}, "url": "https://example.com/a",
                                                                "interval_s": 60, "pointer": ""}}))
        .unwrap();
        let mut edit = WidgetConfig::parse(&json!({ "source": source })).unwrap();
        edit.keep_source_headers(&stored).unwrap();
        assert_eq!(edit.source().unwrap().as_ref().unwrap().headers["x-key"], "k");
    }

    #[test]
    fn new_kinds_keys_are_checked() {
        let config = WidgetConfig::parse(&json!({"horizontal": true, "fit": "cover", "timezone": "Asia/Tokyo",
                                                 "format": "12h", "seconds": true, "sparkline": true}))
        .unwrap();
        assert!(config.horizontal() && config.twelve_hour() && config.seconds() && config.sparkline());
        assert_eq!((config.fit(), config.timezone()), ("cover", Tz::Asia__Tokyo));
        let e = WidgetConfig::parse(&json!({"horizontal": "yes", "fit": "fill", "timezone": "Nowhere/City",
                                            "format": "25h", "seconds": 1, "sparkline": null}))
        .unwrap_err();
        for field in ["config.horizontal", "config.fit", "config.timezone", "config.format", "config.seconds"] {
            assert!(e.get(field).is_some(), "{field} missing in {e:?}");
        }
        let config = WidgetConfig::default();
        assert_eq!((config.fit(), config.timezone(), config.twelve_hour()), ("contain", Tz::UTC, false));
    }

    #[test]
    fn css_colors() {
        assert!(is_css_color("#fff") && is_css_color("red") && is_css_color("#00ff0080"));
        assert!(!is_css_color("red;background:url(x)") && !is_css_color("#ggg") && !is_css_color(""));
    }
}
