//! `GET /dashboard/export` and `POST /dashboard/import`: boards as code over HTTP, for editors,
//! each on the boards it may act on (README, "Boards as code").

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::domain::{BoardFile, Role};
use crate::http::extract::{ApiToken, JsonBody};
use crate::http::{ApiError, ApiResult, AppState};
use crate::store::board_file::{self, ImportError};
use crate::store::changes::{self, ImportOptions};

/// Body limit of `POST /dashboard/import`: a file of many boards is larger than one push.
pub const IMPORT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The boards the caller may act on (a token limited to boards: only those), as a boards file.
pub async fn export(state: web::Data<AppState>, ApiToken(caller): ApiToken) -> ApiResult<HttpResponse> {
    caller.require_role(Role::Editor)?;
    let file = board_file::export(&mut *state.conn().await?, |slug| caller.may_see(slug)).await?;
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(file.to_text()))
}

/// `?dry_run=1&prune=1`; answers the plan, `{"changes": ["create board ops", …], "applied"}`.
/// A file naming a board the caller may not act on is refused (403) before anything is planned.
pub async fn import(
    state: web::Data<AppState>,
    ApiToken(caller): ApiToken,
    request: HttpRequest,
    body: JsonBody<IMPORT_BODY_LIMIT>,
) -> ApiResult<HttpResponse> {
    caller.require_role(Role::Editor)?;
    let options = ImportOptions { prune: flag(&request, "prune")?, dry_run: flag(&request, "dry_run")? };
    let file = BoardFile::parse(&body.0, state.settings.default_board_visibility).map_err(ApiError::InvalidFile)?;
    for slug in file.board_slugs() {
        caller.require(Role::Editor, Some(slug))?;
    }
    let plan =
        changes::import(&mut *state.conn().await?, caller.name(), &file, options).await.map_err(|e| match e {
            ImportError::Invalid(error) => ApiError::InvalidFile(error),
            ImportError::Store(error) => error.into(),
        })?;
    let applied = !options.dry_run && !plan.changes.is_empty();
    if applied {
        state.realtime.boards_imported(&plan.boards);
    }
    Ok(HttpResponse::Ok().json(json!({"changes": plan.lines(), "applied": applied})))
}

/// A yes/no query parameter: `1` or `true`, `0` or `false`; absent is no.
fn flag(request: &HttpRequest, name: &str) -> ApiResult<bool> {
    let query = url::form_urlencoded::parse(request.query_string().as_bytes());
    match query.filter(|(key, _)| key == name).last().as_ref().map(|(_, value)| value.as_ref()) {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true" | "") => Ok(true),
        Some(other) => Err(ApiError::BadRequest(format!("{name}={other:?}: must be 1 or 0"))),
    }
}
