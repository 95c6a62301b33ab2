//! The `demo` board with one widget of every kind and some history (`dashboard seed`, and the
//! demo feed's start). Seeding again changes nothing that exists.

use chrono::{Duration, Utc};
use serde_json::{Value as Json, json};

use super::events::{self, NewEvent};
use super::{Db, StoreError, boards, widgets};
use crate::domain::{NewBoard, NewWidget, Value, Visibility};

pub const DEMO_BOARD: &str = "demo";

/// Creates what is missing of the demo board; returns whether the board itself was new. The
/// demo board is public whatever `DEFAULT_BOARD_VISIBILITY` says: it is there to be shown.
pub async fn seed_demo(db: &Db) -> anyhow::Result<bool> {
    let new_board = NewBoard::parse(
        &json!({
            "slug": DEMO_BOARD, "title": "Demo", "columns": 3,
            "description": "One widget of every kind. Push to it: see README.md."
        }),
        Visibility::Public,
    )
    .map_err(|e| anyhow::anyhow!("demo board is invalid: {e:?}"))?;
    let created = match boards::create(db, &new_board).await {
        Ok(_) => true,
        Err(StoreError::Conflict { .. }) => false,
        Err(e) => return Err(e.into()),
    };
    let mut conn = db.acquire().await?;
    let board = boards::find(&mut conn, DEMO_BOARD).await?;
    for (position, spec) in demo_widgets().into_iter().enumerate() {
        let mut spec = spec;
        spec["position"] = json!(position);
        let new = NewWidget::parse(&spec).map_err(|e| anyhow::anyhow!("demo widget is invalid: {e:?}"))?;
        let widget = match widgets::create(&mut conn, &board, &new).await {
            Ok(widget) => widget,
            Err(StoreError::Conflict { .. }) => widgets::find(&mut conn, DEMO_BOARD, new.key.as_str()).await?,
            Err(e) => return Err(e.into()),
        };
        if events::latest_of_widget(&mut conn, widget.id).await?.is_none() {
            let history = demo_history(new.key.as_str())
                .into_iter()
                .map(|value| Value::parse(widget.kind, value).map(|value| NewEvent { widget: &widget, value }))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("demo value is invalid: {e:?}"))?;
            events::insert(&mut conn, history).await?;
        }
    }
    Ok(created)
}

fn demo_widgets() -> Vec<Json> {
    vec![
        json!({"key": "visitors", "title": "Visitors online", "kind": "number", "config": {"unit": "", "decimals": 0, "stale_after": 120}}),
        json!({"key": "cpu", "title": "CPU load", "kind": "gauge", "config": {"unit": "%", "min": 0, "max": 100,
            "thresholds": [{"value": 70, "color": "#e5a50a"}, {"value": 90, "color": "#e01b24"}]}}),
        json!({"key": "requests", "title": "Requests / s", "kind": "line", "config": {"unit": "req/s", "max_points": 60, "width": 2}}),
        json!({"key": "deploys", "title": "Latest deploy", "kind": "text", "config": {"width": 3}}),
        json!({"key": "top-pages", "title": "Top pages", "kind": "list", "config": {}}),
        json!({"key": "api", "title": "API status", "kind": "status", "config": {}}),
        json!({"key": "hosts", "title": "Hosts", "kind": "table", "config": {"decimals": 1, "width": 2}}),
        json!({"key": "regions", "title": "Traffic by region", "kind": "bar", "config": {"unit": "%", "min": 0, "max": 100,
            "thresholds": [{"value": 80, "color": "#e5a50a"}]}}),
        json!({"key": "map", "title": "Network map", "kind": "image", "config": {"fit": "cover"}}),
        json!({"key": "clock", "title": "Berlin", "kind": "clock", "config": {"timezone": "Europe/Berlin", "seconds": true}}),
        json!({"key": "signups", "title": "Sign-ups today", "kind": "number", "config": {"sparkline": true, "max_points": 30}}),
    ]
}

/// A few plausible past values per widget, oldest first.
pub fn demo_history(key: &str) -> Vec<Json> {
    let now = Utc::now();
    match key {
        "visitors" => (0..10).map(|i| json!({"value": 1180 + i * 7 - (i % 3) * 11})).collect(),
        "cpu" => (0..10).map(|i| json!({"value": 35.0 + f64::from(i % 5) * 6.5})).collect(),
        "requests" => (0..60)
            .map(|i: i32| {
                let at = now - Duration::seconds(i64::from(60 - i) * 10);
                let wave = (f64::from(i) / 6.0).sin() * 40.0;
                json!({"value": (220.0 + wave + f64::from(i % 7) * 3.0).round(), "at": at.to_rfc3339()})
            })
            .collect(),
        "deploys" => vec![json!({"text": "v2.14.0 deployed to production by the CI pipeline"})],
        "top-pages" => vec![json!({"items": [
            {"label": "/", "value": 1523}, {"label": "/pricing", "value": 842},
            {"label": "/docs/getting-started", "value": 611}, {"label": "/blog", "value": 287}
        ]})],
        "api" => vec![json!({"status": "ok", "message": "All systems operational"})],
        "hosts" => vec![json!({"columns": ["Host", "Region", "Load", "Memory %"], "rows": [
            ["web-1", "eu-west", 0.72, 61.5], ["web-2", "eu-west", 0.64, 58.0],
            ["db-1", "eu-central", 1.93, 82.4], ["worker-1", "us-east", 0.31, 44.2]
        ]})],
        "regions" => vec![json!({"bars": [
            {"label": "EU", "value": 46}, {"label": "US", "value": 84}, {"label": "Asia", "value": 31}, {"label": "Other", "value": 12}
        ]})],
        "map" => vec![json!({"url": crate::jobs::demo_feed::demo_image("#2f6fed"), "alt": "A map of the network"})],
        "clock" => vec![json!({})],
        "signups" => (0..30).map(|i: i32| json!({"value": 120 + i * 3 + (i % 4) * 5})).collect(),
        _ => Vec::new(),
    }
}
