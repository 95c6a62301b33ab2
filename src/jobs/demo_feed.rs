//! The demo feed (`DEMO_FEED=true`, the default in development): every few seconds the `demo`
//! board's widgets get plausible next values, so a first run shows a live board. Numbers,
//! gauges and lines move every run; text, lists and statuses change now and then, as they would.
//!
//! Its first run creates the demo board when it is missing (as `dashboard seed` does); later runs
//! leave a deleted demo board deleted.

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value as Json, json};

use super::JobContext;
use crate::domain::{Value, WidgetKind};
use crate::store::demo::{DEMO_BOARD, seed_demo};
use crate::store::events::{self, NewEvent};
use crate::store::widgets::WidgetView;
use crate::store::{StoreError, boards, widgets};

const DEPLOY_MESSAGES: [&str; 4] = [
    "deployed to production by the CI pipeline",
    "rolled out to 50% of servers",
    "deployed to staging; waiting for approval",
    "deployed to production after a green canary",
];

pub async fn run(ctx: &JobContext, first_run: bool) -> anyhow::Result<String> {
    let mut conn = ctx.db.acquire().await?;
    let board = match boards::find(&mut conn, DEMO_BOARD).await {
        Ok(board) => board,
        Err(StoreError::NotFound) if first_run => {
            seed_demo(&ctx.db).await?;
            boards::find(&mut conn, DEMO_BOARD).await?
        }
        Err(StoreError::NotFound) => return Ok("no demo board; nothing to feed".into()),
        Err(error) => return Err(error.into()),
    };
    let views = widgets::list_with_latest(&mut conn, &board).await?;
    // Widgets fed by a pull source keep their real values.
    let fed: Vec<&WidgetView> = views.iter().filter(|view| view.widget.config.source().is_none()).collect();
    let new: Vec<NewEvent<'_>> = {
        let mut rng = rand::rng();
        fed.iter()
            .filter_map(|view| {
                let json = next_value(view, &mut rng)?;
                let value = Value::parse(view.widget.kind, json).ok()?;
                Some(NewEvent { widget: &view.widget, value })
            })
            .collect()
    };
    if new.is_empty() {
        return Ok("nothing to change this time".into());
    }
    let inserted = events::insert(&mut conn, new).await?;
    ctx.realtime.events_committed(&inserted);
    Ok(format!("fed {} demo widgets", inserted.len()))
}

/// The widget's next value, drifting from its latest; `None` when it stays as it is this time.
fn next_value(view: &WidgetView, rng: &mut impl Rng) -> Option<Json> {
    let latest = view.latest.as_ref().map(|event| &event.value.0);
    let number = |name: &str| latest.and_then(|v| v.get(name)).and_then(Json::as_f64);
    match view.widget.kind {
        WidgetKind::Number => {
            let previous = number("value").unwrap_or(1000.0);
            Some(
                json!({ "value": (previous * rng.random_range(0.97..1.03) + rng.random_range(-2.0..2.0)).round().max(0.0) }),
            )
        }
        WidgetKind::Gauge => {
            let (min, max) = view.widget.config.scale();
            let previous = number("value").unwrap_or((min + max) / 2.0);
            let step = (max - min) * rng.random_range(-0.06..0.06);
            // Pulled gently towards the middle, so it wanders without sticking to an edge.
            let next = previous + step + ((min + max) / 2.0 - previous) * 0.05;
            Some(json!({ "value": (next.clamp(min, max) * 10.0).round() / 10.0 }))
        }
        WidgetKind::Line => {
            let previous = number("value").unwrap_or(200.0);
            let next = previous * rng.random_range(0.9..1.1) + (200.0 - previous) * 0.1;
            Some(json!({ "value": next.round().max(0.0) }))
        }
        WidgetKind::Text => rng.random_bool(0.1).then(|| {
            let message = DEPLOY_MESSAGES.choose(rng).copied().unwrap_or_default();
            json!({ "text": format!("v2.{}.{} {message}", rng.random_range(14..20), rng.random_range(0..10)) })
        }),
        WidgetKind::List => rng.random_bool(0.3).then(|| jiggle_items(latest, rng)),
        WidgetKind::Table => rng.random_bool(0.3).then(|| jiggle_table(latest, rng)),
        WidgetKind::Bar => rng.random_bool(0.5).then(|| jiggle_bars(latest, rng)),
        WidgetKind::Image => rng.random_bool(0.05).then(|| {
            let tiles = [("#2f6fed", "blue"), ("#1a9a52", "green"), ("#d48a00", "amber"), ("#d7263d", "red")];
            let (color, name) = tiles.choose(rng).copied().unwrap_or(tiles[0]);
            json!({ "url": demo_image(color), "alt": format!("The network map, {name}") })
        }),
        // A clock ticks by itself in the browser: nothing to push.
        WidgetKind::Clock => None,
        WidgetKind::Status => rng.random_bool(0.1).then(|| {
            let (status, message) = *[
                ("ok", "All systems operational"),
                ("ok", "All systems operational"),
                ("ok", "All systems operational"),
                ("warning", "Elevated error rate on /checkout"),
                ("critical", "Database failover in progress"),
            ]
            .choose(rng)
            .unwrap_or(&("ok", ""));
            json!({ "status": status, "message": message })
        }),
    }
}

/// The latest list with each numeric value moved a little, highest first.
fn jiggle_items(latest: Option<&Json>, rng: &mut impl Rng) -> Json {
    let mut items: Vec<Json> =
        latest.and_then(|v| v.get("items")).and_then(Json::as_array).cloned().unwrap_or_default();
    for item in &mut items {
        if let Some(n) = item.get("value").and_then(Json::as_f64) {
            item["value"] = json!((n * rng.random_range(0.9..1.12)).round().max(0.0));
        }
    }
    let value_of = |item: &Json| item.get("value").and_then(Json::as_f64).unwrap_or(0.0);
    items.sort_by(|a, b| value_of(b).total_cmp(&value_of(a)));
    json!({ "items": items })
}

/// The latest table with each numeric cell moved a little.
fn jiggle_table(latest: Option<&Json>, rng: &mut impl Rng) -> Json {
    let mut table = latest.cloned().unwrap_or_else(|| json!({ "rows": [] }));
    if let Some(rows) = table.get_mut("rows").and_then(Json::as_array_mut) {
        for cell in rows.iter_mut().filter_map(Json::as_array_mut).flatten() {
            if let Some(n) = cell.as_f64() {
                *cell = json!((n * rng.random_range(0.9..1.12) * 10.0).round() / 10.0);
            }
        }
    }
    table
}

/// The latest bars, each moved a little.
fn jiggle_bars(latest: Option<&Json>, rng: &mut impl Rng) -> Json {
    let mut bars: Vec<Json> = latest.and_then(|v| v.get("bars")).and_then(Json::as_array).cloned().unwrap_or_default();
    for bar in &mut bars {
        if let Some(n) = bar.get("value").and_then(Json::as_f64) {
            bar["value"] = json!((n * rng.random_range(0.85..1.15)).round().clamp(1.0, 100.0));
        }
    }
    json!({ "bars": bars })
}

/// A small SVG picture as a `data:` URL, so the demo needs no image host.
pub fn demo_image(color: &str) -> String {
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 160 90'><rect width='160' height='90' rx='8' fill='{color}'/>\
         <circle cx='120' cy='30' r='14' fill='white' fill-opacity='.8'/><path d='M0 90 L55 40 L95 75 L120 55 L160 90Z' fill='white' fill-opacity='.45'/></svg>"
    );
    format!("data:image/svg+xml,{}", svg.replace('#', "%23").replace('<', "%3C").replace('>', "%3E"))
}
