use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::config::JobsMode;
use crate::domain::Audience;
use crate::http::AppState;
use crate::http::operator::Operator;
use crate::store::jobs;

pub async fn debug(_: Operator, state: web::Data<AppState>) -> HttpResponse {
    let jobs = jobs_section(&state).await;
    let realtime = &state.realtime;
    let stats = realtime.stats();
    HttpResponse::Ok().json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started_at.elapsed().as_secs(),
        "instance": realtime.instance(),
        "stream": {
            "mode": realtime.mode(),
            "connections": stats.connections(),
            "max_connections": stats.max_connections,
            "last_event_id": stats.last_event_id(),
            "events_published": stats.events_published(),
            "events_delivered": stats.events_delivered(),
            "heartbeats_sent": stats.heartbeats_sent(),
        },
        "redis": {
            "enabled": realtime.redis_enabled(),
            "connected": realtime.redis_connected(),
            "reconnects": stats.redis_reconnects(),
        },
        "database": {
            "pool_size": state.db.size(),
            "idle": state.db.num_idle(),
        },
        "jobs": jobs,
    }))
}

/// Every job's schedule and last outcome, as `dashboard jobs` lists them. `mode` is `JOBS`:
/// whether `dashboard serve` runs them too (`inline`) or only `dashboard worker` does (`off`).
async fn jobs_section(state: &AppState) -> serde_json::Value {
    let mode = match state.settings.jobs {
        JobsMode::Inline => "inline",
        JobsMode::Off => "off",
    };
    // Outside production anyone may read this page (until METRICS_TOKEN is set): it names no
    // private board.
    match jobs::list(&state.db, &Audience::Public).await {
        Ok(list) => json!({ "mode": mode, "jobs": list }),
        Err(error) => json!({ "mode": mode, "error": error.to_string() }),
    }
}
