//! What a widget shows on the board page, computed from its config and its latest events.
//!
//! Everything here is text or numbers ready for the template (which escapes it); the live
//! updates in `static/js/widgets.js` follow the same rules.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use sqlx::PgConnection;

use super::format;
use crate::domain::{WidgetConfig, WidgetKind};
use crate::store::StoreResult;
use crate::store::boards::BoardSnapshot;
use crate::store::events::{self, EventRow};
use crate::store::widgets::WidgetView;

pub struct Card {
    pub key: String,
    pub title: String,
    pub kind: &'static str,
    /// Column and row spans, already fitted to the board.
    pub width: i64,
    pub height: i64,
    /// The widget's config as JSON, for the script that applies live values.
    pub config_json: String,
    pub stale_after: Option<i64>,
    /// The id of the event shown (0: none yet); the stream's older events are ignored.
    pub event_id: i64,
    pub updated: Option<Updated>,
    pub stale: bool,
    pub body: Body,
}

pub struct Updated {
    pub iso: String,
    pub ago: String,
}

pub enum Body {
    Number(NumberView),
    Gauge(GaugeView),
    Line(LineView),
    Text(TextView),
    List(Vec<ListRow>),
    Status(StatusView),
    Table(TableView),
    Bar(BarView),
    Image(ImageView),
    Clock(ClockView),
}

pub struct NumberView {
    pub value: String,
    /// The unformatted value, from which the next update computes its change.
    pub raw: String,
    pub unit: String,
    pub change: Option<Change>,
    /// With `sparkline` set: the last `max_points` values as an SVG `points` list, and as the
    /// JSON array the live update extends.
    pub sparkline: Option<(String, String)>,
}

pub struct Change {
    pub direction: &'static str,
    pub arrow: &'static str,
    pub text: String,
}

pub struct GaugeView {
    pub value: String,
    pub unit: String,
    /// Share of the arc to fill, 0–100 (the arc's `pathLength` is 100).
    pub percent: String,
    /// The colour of the threshold reached, if any; otherwise the stylesheet's accent.
    pub color: Option<String>,
    pub zones: Vec<Zone>,
    pub min: String,
    pub max: String,
}

/// A stretch of the gauge's rim in a threshold's colour, as an SVG dash pattern.
pub struct Zone {
    pub dasharray: String,
    pub color: String,
}

pub struct LineView {
    pub value: String,
    pub unit: String,
    /// `[[unix seconds, value], …]`, oldest first, for the chart.
    pub points_json: String,
    pub point_count: usize,
    /// An SVG polyline of the same points, shown until the chart draws (and without JavaScript).
    pub sparkline: String,
}

/// A text, with the heading and caption a Smashing text widget sends (`title`, `moreinfo`).
pub struct TextView {
    pub title: String,
    pub text: String,
    pub moreinfo: String,
}

pub struct ListRow {
    pub label: String,
    pub value: String,
}

pub struct TableView {
    /// Headings; a column whose first cell is a number is aligned right, as its numbers are.
    pub columns: Vec<TableCell>,
    pub rows: Vec<Vec<TableCell>>,
}

/// A cell's text; numbers are formatted and aligned right.
pub struct TableCell {
    pub text: String,
    pub numeric: bool,
}

pub struct BarView {
    pub horizontal: bool,
    pub unit: String,
    pub bars: Vec<BarRow>,
}

/// A bar and its rectangle in the 100×100 viewBox of its track.
pub struct BarRow {
    pub label: String,
    pub value: String,
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// The colour of the threshold reached, if any; otherwise the stylesheet's accent.
    pub color: Option<String>,
}

pub struct ImageView {
    pub url: String,
    pub alt: String,
    pub fit: &'static str,
}

/// The time when the page was rendered; the browser keeps it ticking.
pub struct ClockView {
    pub time: String,
    pub date: String,
    pub timezone: String,
}

pub struct StatusView {
    pub status: &'static str,
    pub label: &'static str,
    pub message: String,
}

/// The cards of a board in position order.
pub async fn of_board(conn: &mut PgConnection, snapshot: &BoardSnapshot, now: DateTime<Utc>) -> StoreResult<Vec<Card>> {
    let mut cards = Vec::with_capacity(snapshot.widgets.len());
    for widget in &snapshot.widgets {
        let history = history(conn, widget).await?;
        cards.push(card(widget, &history, i64::from(snapshot.board.columns), now));
    }
    Ok(cards)
}

/// The events a card needs besides the latest: the previous number, or a chart's points.
async fn history(conn: &mut PgConnection, view: &WidgetView) -> StoreResult<Vec<EventRow>> {
    let Some(latest) = &view.latest else { return Ok(Vec::new()) };
    let limit = match view.widget.kind {
        WidgetKind::Number if view.widget.config.sparkline() => view.widget.config.max_points().max(2),
        WidgetKind::Number => 2,
        WidgetKind::Line => view.widget.config.max_points(),
        _ => return Ok(vec![latest.clone()]),
    };
    events::recent_until(conn, view.widget.id, latest.id, limit).await
}

/// One card; `history` ends with the latest event (empty when there is none).
pub fn card(view: &WidgetView, history: &[EventRow], columns: i64, now: DateTime<Utc>) -> Card {
    let widget = &view.widget;
    let config = &widget.config;
    let kind = widget.kind;
    let stale_after = config.stale_after();
    let latest = view.latest.as_ref();
    let updated = latest.map(|e| Updated { iso: format::timestamp(e.created_at), ago: format::ago(e.created_at, now) });
    let stale = match (latest, stale_after) {
        (Some(e), Some(limit)) => (now - e.created_at).num_seconds() > limit,
        _ => false,
    };
    Card {
        key: widget.key.clone(),
        title: widget.title.clone(),
        kind: kind.as_str(),
        width: config.width_within(columns),
        height: config.height(),
        config_json: config.public_json().to_string(),
        stale_after,
        event_id: latest.map_or(0, |e| e.id),
        updated,
        stale,
        body: body(kind, config, latest.map(|e| &e.value.0), history, now),
    }
}

fn body(
    kind: WidgetKind,
    config: &WidgetConfig,
    value: Option<&Json>,
    history: &[EventRow],
    now: DateTime<Utc>,
) -> Body {
    let text = |name: &str| value.and_then(|v| v.get(name)).and_then(Json::as_str).unwrap_or_default().to_string();
    match kind {
        WidgetKind::Number => Body::Number(number(config, history)),
        WidgetKind::Gauge => Body::Gauge(gauge(config, value.and_then(point_value))),
        WidgetKind::Line => Body::Line(line(config, history)),
        WidgetKind::Text => {
            Body::Text(TextView { title: text("title"), text: text("text"), moreinfo: text("moreinfo") })
        }
        WidgetKind::List => Body::List(list(value)),
        WidgetKind::Status => Body::Status(status(&text("status"), text("message"))),
        WidgetKind::Table => Body::Table(table(config, value)),
        WidgetKind::Bar => Body::Bar(bars(config, value)),
        WidgetKind::Image => Body::Image(ImageView { url: text("url"), alt: text("alt"), fit: config.fit() }),
        WidgetKind::Clock => Body::Clock(clock(config, value, now)),
    }
}

fn point_value(value: &Json) -> Option<f64> {
    value.get("value").and_then(Json::as_f64)
}

/// The placeholder of a widget that has no value yet.
const NO_VALUE: &str = "–";

fn number(config: &WidgetConfig, history: &[EventRow]) -> NumberView {
    let values: Vec<f64> = history.iter().filter_map(|e| point_value(&e.value.0)).collect();
    let (current, previous) = match values.as_slice() {
        [.., previous, current] => (Some(*current), Some(*previous)),
        [current] => (Some(*current), None),
        [] => (None, None),
    };
    // A value that names what it is compared with (Smashing's `last`) is shown against that.
    let last = history.last().and_then(|e| e.value.0.get("last")).and_then(Json::as_f64);
    let previous = last.or(previous);
    NumberView {
        value: current.map_or_else(|| NO_VALUE.into(), |v| format::number(v, config.decimals())),
        raw: current.map(|v| v.to_string()).unwrap_or_default(),
        unit: config.unit().to_string(),
        change: current.zip(previous).map(|(current, previous)| change(current, previous, config.decimals())),
        sparkline: config.sparkline().then(|| {
            let points: Vec<(f64, f64)> = values.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect();
            (sparkline(&points), serde_json::to_string(&values).unwrap_or_else(|_| "[]".into()))
        }),
    }
}

/// "▲ 12 (+1.0%)" against the previous value.
fn change(current: f64, previous: f64, decimals: Option<usize>) -> Change {
    let delta = current - previous;
    let (direction, arrow) = match delta.partial_cmp(&0.0) {
        Some(std::cmp::Ordering::Greater) => ("up", "▲"),
        Some(std::cmp::Ordering::Less) => ("down", "▼"),
        _ => ("flat", "■"),
    };
    let amount = format::number(delta.abs(), decimals);
    let text = if previous == 0.0 { amount } else { format!("{amount} ({:+.1}%)", delta / previous.abs() * 100.0) };
    Change { direction, arrow, text }
}

fn gauge(config: &WidgetConfig, value: Option<f64>) -> GaugeView {
    let (min, max) = config.scale();
    let share = |v: f64| if max > min { ((v - min) / (max - min)).clamp(0.0, 1.0) * 100.0 } else { 0.0 };
    let mut thresholds = config.thresholds().to_vec();
    thresholds.sort_by(|a, b| a.value.total_cmp(&b.value));
    let zones = thresholds
        .iter()
        .enumerate()
        .map(|(i, threshold)| {
            let start = share(threshold.value);
            let end = thresholds.get(i + 1).map_or(100.0, |next| share(next.value));
            Zone { dasharray: format!("0 {start:.2} {:.2} 100", end - start), color: threshold.color.clone() }
        })
        .collect();
    GaugeView {
        value: value.map_or_else(|| NO_VALUE.into(), |v| format::number(v, config.decimals())),
        unit: config.unit().to_string(),
        percent: format!("{:.2}", value.map_or(0.0, share)),
        color: value.and_then(|v| thresholds.iter().rev().find(|t| v >= t.value)).map(|t| t.color.clone()),
        zones,
        min: format::number(min, None),
        max: format::number(max, None),
    }
}

fn line(config: &WidgetConfig, history: &[EventRow]) -> LineView {
    let mut points: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|e| {
            let at = e.value.0.get("at").and_then(Json::as_str).and_then(|s| DateTime::parse_from_rfc3339(s).ok());
            let millis = at.map_or(e.created_at.timestamp_millis(), |at| at.timestamp_millis());
            Some((millis as f64 / 1000.0, point_value(&e.value.0)?))
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let latest = history.last().and_then(|e| point_value(&e.value.0));
    LineView {
        value: latest.map_or_else(|| NO_VALUE.into(), |v| format::number(v, config.decimals())),
        unit: config.unit().to_string(),
        points_json: serde_json::to_string(&points.iter().map(|(t, v)| [*t, *v]).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".into()),
        point_count: points.len(),
        sparkline: sparkline(&points),
    }
}

/// The points scaled into the sparkline's 300×100 viewBox, as an SVG `points` list.
fn sparkline(points: &[(f64, f64)]) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else { return String::new() };
    let (low, high) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let span_t = (last.0 - first.0).max(f64::EPSILON);
    let span_v = (high - low).max(f64::EPSILON);
    points
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", (t - first.0) / span_t * 300.0, 95.0 - (v - low) / span_v * 90.0))
        .collect::<Vec<_>>()
        .join(" ")
}

fn list(value: Option<&Json>) -> Vec<ListRow> {
    let items = value.and_then(|v| v.get("items")).and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
    items
        .iter()
        .map(|item| ListRow {
            label: item.get("label").and_then(Json::as_str).unwrap_or_default().to_string(),
            value: match item.get("value") {
                Some(Json::Number(n)) => n.as_f64().map(|n| format::number(n, None)).unwrap_or_default(),
                Some(Json::String(s)) => s.clone(),
                _ => String::new(),
            },
        })
        .collect()
}

fn table(config: &WidgetConfig, value: Option<&Json>) -> TableView {
    let array = |name: &str| value.and_then(|v| v.get(name)).and_then(Json::as_array).cloned().unwrap_or_default();
    let cell = |cell: &Json| match cell {
        Json::Number(n) => {
            TableCell { text: format::number(n.as_f64().unwrap_or_default(), config.decimals()), numeric: true }
        }
        Json::String(s) => TableCell { text: s.clone(), numeric: false },
        _ => TableCell { text: String::new(), numeric: false },
    };
    let rows: Vec<Vec<TableCell>> = array("rows")
        .iter()
        .map(|row| row.as_array().map(|r| r.iter().map(cell).collect()).unwrap_or_default())
        .collect();
    let numeric = |i: usize| rows.first().and_then(|row| row.get(i)).is_some_and(|c| c.numeric);
    let columns = array("columns")
        .iter()
        .enumerate()
        .map(|(i, c)| TableCell { text: c.as_str().unwrap_or_default().to_string(), numeric: numeric(i) })
        .collect();
    TableView { columns, rows }
}

fn bars(config: &WidgetConfig, value: Option<&Json>) -> BarView {
    let items = value.and_then(|v| v.get("bars")).and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
    let read: Vec<(String, f64)> = items
        .iter()
        .map(|bar| {
            let label = bar.get("label").and_then(Json::as_str).unwrap_or_default().to_string();
            (label, bar.get("value").and_then(Json::as_f64).unwrap_or_default())
        })
        .collect();
    let (low, high) = bar_scale(config, read.iter().map(|(_, v)| *v));
    let mut thresholds = config.thresholds().to_vec();
    thresholds.sort_by(|a, b| a.value.total_cmp(&b.value));
    let horizontal = config.horizontal();
    let bars = read
        .into_iter()
        .map(|(label, v)| {
            let share = ((v - low) / (high - low)).clamp(0.0, 1.0) * 100.0;
            let (x, y, width, height) =
                if horizontal { (0.0, 0.0, share, 100.0) } else { (0.0, 100.0 - share, 100.0, share) };
            BarRow {
                label,
                value: format::number(v, config.decimals()),
                x: format!("{x:.2}"),
                y: format!("{y:.2}"),
                width: format!("{width:.2}"),
                height: format!("{height:.2}"),
                color: thresholds.iter().rev().find(|t| v >= t.value).map(|t| t.color.clone()),
            }
        })
        .collect();
    BarView { horizontal, unit: config.unit().to_string(), bars }
}

/// The bars' axis: `min` (default: 0, or the lowest value below 0) to `max` (default: the
/// highest value); never empty.
fn bar_scale(config: &WidgetConfig, values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lowest, highest) = values.fold((0.0_f64, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let keys = config.keys();
    let low = keys.min.unwrap_or(lowest);
    let high = keys.max.unwrap_or(highest);
    if high > low { (low, high) } else { (low, low + 1.0) }
}

fn clock(config: &WidgetConfig, value: Option<&Json>, now: DateTime<Utc>) -> ClockView {
    let timezone = value
        .and_then(|v| v.get("timezone"))
        .and_then(Json::as_str)
        .and_then(|name| name.parse::<chrono_tz::Tz>().ok())
        .unwrap_or_else(|| config.timezone());
    let local = now.with_timezone(&timezone);
    let time = match (config.twelve_hour(), config.seconds()) {
        (false, false) => "%H:%M",
        (false, true) => "%H:%M:%S",
        (true, false) => "%-I:%M %p",
        (true, true) => "%-I:%M:%S %p",
    };
    ClockView {
        time: local.format(time).to_string(),
        date: local.format("%a %-d %b").to_string(),
        timezone: timezone.name().to_string(),
    }
}

fn status(status: &str, message: String) -> StatusView {
    let (status, label) = match status {
        "ok" => ("ok", "OK"),
        "warning" => ("warning", "Warning"),
        "critical" => ("critical", "Critical"),
        _ => ("unknown", "Unknown"),
    };
    StatusView { status, label, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn change_against_the_previous_value() {
        let c = change(110.0, 100.0, Some(0));
        assert_eq!((c.direction, c.text.as_str()), ("up", "10 (+10.0%)"));
        let c = change(5.0, 0.0, None);
        assert_eq!((c.direction, c.text.as_str()), ("up", "5"));
        assert_eq!(change(3.0, 3.0, None).direction, "flat");
        assert_eq!(change(1.0, 4.0, None).direction, "down");
    }

    #[test]
    fn gauge_takes_the_colour_of_the_threshold_reached() {
        let config = json!({"min": 0, "max": 200, "thresholds": [{"value": 150, "color": "red"}, {"value": 100, "color": "orange"}]});
        let config = WidgetConfig::from_stored(config);
        let g = gauge(&config, Some(120.0));
        assert_eq!((g.percent.as_str(), g.color.as_deref()), ("60.00", Some("orange")));
        assert_eq!(g.zones[0].dasharray, "0 50.00 25.00 100");
        assert_eq!(g.zones[1].dasharray, "0 75.00 25.00 100");
        assert_eq!(gauge(&config, Some(20.0)).color, None);
        assert_eq!(gauge(&config, Some(999.0)).percent, "100.00");
        assert_eq!(gauge(&WidgetConfig::default(), None).value, NO_VALUE);
    }

    #[test]
    fn sparkline_spans_the_box() {
        assert_eq!(sparkline(&[(0.0, 1.0), (10.0, 3.0)]), "0.0,95.0 300.0,5.0");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn bars_fill_their_share_of_the_scale() {
        let config = WidgetConfig::from_stored(json!({"thresholds": [{"value": 50, "color": "red"}]}));
        let view = bars(&config, Some(&json!({"bars": [{"label": "a", "value": 25}, {"label": "b", "value": 100}]})));
        let a = &view.bars[0];
        assert_eq!((a.y.as_str(), a.height.as_str(), a.color.as_deref()), ("75.00", "25.00", None));
        assert_eq!(view.bars[1].color.as_deref(), Some("red"));
        let sideways = WidgetConfig::from_stored(json!({"horizontal": true, "min": -100, "max": 100}));
        let view = bars(&sideways, Some(&json!({"bars": [{"label": "a", "value": 0}]})));
        assert_eq!((view.bars[0].width.as_str(), view.bars[0].height.as_str()), ("50.00", "100.00"));
    }

    #[test]
    fn clocks_render_in_their_timezone() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T23:05:09Z").unwrap().with_timezone(&Utc);
        let config = WidgetConfig::from_stored(json!({"timezone": "Asia/Tokyo", "seconds": true}));
        let c = clock(&config, None, now);
        assert_eq!((c.time.as_str(), c.date.as_str(), c.timezone.as_str()), ("08:05:09", "Tue 1 Dec", "Asia/Tokyo"));
        let c = clock(
            &WidgetConfig::from_stored(json!({"format": "12h"})),
            Some(&json!({"timezone": "America/New_York"})),
            now,
        );
        assert_eq!((c.time.as_str(), c.timezone.as_str()), ("6:05 PM", "America/New_York"));
    }

    #[test]
    fn unknown_status_reads_unknown() {
        assert_eq!(status("ok", String::new()).label, "OK");
        assert_eq!(status("", String::new()).status, "unknown");
    }
}
