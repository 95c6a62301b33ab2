//! `/metrics` in Prometheus text format, and the HTTP request counter behind it.

use std::sync::OnceLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::AppState;
use super::operator::Operator;

/// The process's recorder, installed once (several test apps share one process).
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
            )
            .and_then(|b| b.install_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder().handle())
    })
}

pub async fn render(_: Operator, state: web::Data<AppState>) -> HttpResponse {
    let stats = state.realtime.stats();
    metrics::gauge!("dashboard_stream_connections").set(stats.connections() as f64);
    metrics::counter!("dashboard_events_published_total").absolute(stats.events_published());
    metrics::counter!("dashboard_events_delivered_total").absolute(stats.events_delivered());
    metrics::counter!("dashboard_heartbeats_sent_total").absolute(stats.heartbeats_sent());
    metrics::counter!("dashboard_redis_reconnects_total").absolute(stats.redis_reconnects());
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(recorder().render())
}

/// Counts every request by route pattern (not raw path, which would explode the label set).
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(req).await?;
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16().to_string();
    metrics::counter!("dashboard_http_requests_total", "route" => route, "status" => status).increment(1);
    Ok(response)
}
