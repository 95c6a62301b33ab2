//! `POST /manage/boards/{board}/layout`: where the layout editor of a board's management page
//! (`static/js/layout_editor.js`) saves. The session's CSRF token comes with the layout, as with
//! every form; the layout goes through the API's own [`save_as`], and the answer is the API's
//! JSON (the layout saved, or the error naming the field), for the script to show.

use actix_web::{HttpResponse, ResponseError, web};

use super::session::Submitted;
use crate::domain::Slug;
use crate::http::pages::PageError;
use crate::http::routes::layout::save_as;
use crate::http::{ApiError, AppState};

#[derive(serde::Deserialize)]
pub struct LayoutForm {
    /// The API's request body, `{"widgets": [...]}`, as JSON text.
    layout: String,
}

pub async fn save(
    state: web::Data<AppState>,
    submitted: Submitted<LayoutForm>,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    manager.require_board(&path)?;
    let saved = match serde_json::from_str(&form.layout) {
        Ok(json) => save_as(&state, &manager.caller, &path, &json).await,
        Err(error) => Err(ApiError::BadRequest(format!("layout is not JSON: {error}"))),
    };
    Ok(match saved {
        Ok(layout) => HttpResponse::Ok().json(layout),
        Err(error) => error.error_response(),
    })
}
