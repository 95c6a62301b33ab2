use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::domain::Role;
use crate::http::extract::ApiToken;
use crate::http::{ApiResult, AppState};
use crate::store::audit;

const DEFAULT_ENTRIES: i64 = 100;
const MAX_ENTRIES: i64 = 1000;

#[derive(serde::Deserialize)]
pub struct AuditQuery {
    limit: Option<i64>,
}

/// `GET /dashboard/audit?limit=N`: the newest entries, newest first; for admins only.
pub async fn list(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin, None)?;
    let limit = query.limit.unwrap_or(DEFAULT_ENTRIES).clamp(1, MAX_ENTRIES);
    let entries = audit::newest(&state.db, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "entries": entries })))
}
