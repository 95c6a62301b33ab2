use std::time::Duration;

use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::http::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let database_ok =
        tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(&state.db)).await.is_ok_and(|r| r.is_ok());
    let realtime = &state.realtime;
    let redis = match (realtime.redis_enabled(), realtime.redis_connected()) {
        (false, _) => "disabled",
        (true, true) => "ok",
        (true, false) => "down",
    };
    let status = if database_ok && redis != "down" { "ok" } else { "degraded" };
    let body = json!({
        "status": status,
        "database": if database_ok { "ok" } else { "down" },
        "redis": redis,
        "stream_mode": realtime.mode(),
    });
    if database_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().insert_header((RETRY_AFTER, "5")).json(body)
    }
}
