use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::http::extract::ApiToken;
use crate::http::{ApiError, ApiResult, AppState};
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
    // The role check; becomes `caller.require(Role::Admin, None)?` when token roles land.
    if !caller.is_admin() {
        return Err(ApiError::Unauthorized("the audit log is for admin tokens"));
    }
    let limit = query.limit.unwrap_or(DEFAULT_ENTRIES).clamp(1, MAX_ENTRIES);
    let entries = audit::newest(&state.db, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "entries": entries })))
}
