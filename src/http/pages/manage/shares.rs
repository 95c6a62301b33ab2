//! The share links section of a board's management page: make one (its address is shown on the
//! answer page once, never stored or put in a message for later) and revoke one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use super::boards::{NewLink, edit_page, editing};
use super::redirect;
use super::session::{NoFields, Submitted};
use crate::domain::{NewShare, SharePath, Slug, parse_lifetime};
use crate::http::pages::PageError;
use crate::http::{AppState, pages::board_missing};
use crate::store::shares::{self, Target};
use crate::store::{StoreError, changes};

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct ShareForm {
    name: String,
    /// `30m`, `12h`, `7d`; empty: until revoked.
    expires: String,
}

impl ShareForm {
    fn parse(&self) -> Result<NewShare, String> {
        let expires = self.expires.trim();
        let lasts = (!expires.is_empty()).then(|| parse_lifetime(expires)).transpose()?;
        NewShare::lasting(&self.name, lasts, Utc::now()).map_err(|errors| {
            errors
                .iter()
                .next()
                .map_or_else(|| "The link is invalid.".into(), |(field, message)| format!("{field} {message}"))
        })
    }
}

pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    submitted: Submitted<ShareForm>,
    path: web::Path<Slug>,
) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    let slug = path.into_inner();
    manager.require_board(&slug)?;
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => {
            let mut page = editing(&state, &slug).await?;
            page.share_error = Some(message);
            return edit_page(&manager, page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let (share, secret) =
        changes::create_share(&mut *state.conn().await?, manager.caller.name(), Target::Board(&slug), &new)
            .await
            .map_err(board_missing(&slug))?;
    let mut page = editing(&state, &slug).await?;
    let origin = req.connection_info();
    let url = format!("{}://{}{}", origin.scheme(), origin.host(), shares::path_of(&secret));
    page.new_link = Some(NewLink { name: share.name, url });
    edit_page(&manager, page, StatusCode::OK)
}

pub async fn revoke(
    state: web::Data<AppState>,
    submitted: Submitted<NoFields>,
    path: web::Path<SharePath>,
) -> Result<HttpResponse, PageError> {
    let manager = submitted.manager;
    manager.require_board(&path.board)?;
    let share = changes::revoke_share(
        &mut *state.conn().await?,
        manager.caller.name(),
        Some(Target::Board(&path.board)),
        path.id,
    )
    .await
    .map_err(|e| match e {
        StoreError::NotFound => PageError::NotFound("There is no such share link, or it is revoked already.".into()),
        other => other.into(),
    })?;
    manager.flash(&format!("Share link “{}” revoked: it admits nobody from now on.", share.name)).await;
    Ok(redirect(&format!("/manage/boards/{}", path.board)))
}
