//! `GET /s/{secret}`: a share link. A working one leaves its secret in a cookie of the browser
//! and sends it on to the board (or the playlist), which that cookie then shows it (page, JSON
//! and stream) until the link is revoked or expires. The cookie holds the secret itself, checked against the
//! database on every request, so it survives restarts and works on every instance.
//!
//! One cookie per link (`dashboard_share_<id>`), so links to several boards work side by side
//! and opening a link again only refreshes its own cookie.

use actix_web::cookie::Cookie;
use actix_web::cookie::time::Duration;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use super::PageError;
use super::manage::cookie;
use crate::config::Settings;
use crate::http::AppState;
use crate::store::shares::{self, ShareRow, Target};

const COOKIE_PREFIX: &str = "dashboard_share_";
/// At most this many share cookies are looked at per request, so a flood of cookies costs nothing.
const MAX_PRESENTED: usize = 16;
/// How long a link without an expiry stays in the browser: the longest browsers keep a cookie.
const KEPT_DAYS: i64 = 400;

const NOT_WORKING: &str = "This share link does not work: it is unknown, revoked or expired.";

pub async fn admit(
    state: web::Data<AppState>,
    req: HttpRequest,
    secret: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let secret = secret.into_inner();
    if !looks_like_a_secret(&secret) {
        return Err(PageError::NotFound(NOT_WORKING.into()));
    }
    let share =
        shares::find_working(&state.db, &secret).await?.ok_or_else(|| PageError::NotFound(NOT_WORKING.into()))?;
    let admission = admission(&share, secret, &req, &state.settings);
    let page = match share.target() {
        Target::Board(slug) => format!("/boards/{slug}"),
        Target::Playlist(name) => format!("/playlists/{name}"),
    };
    let query = req.query_string();
    let to = if query.is_empty() { page } else { format!("{page}?{query}") };
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    response.add_cookie(&admission).map_err(|e| PageError::Internal(e.to_string()))?;
    for stale in stale_cookies(&state, &req).await?.into_iter().filter(|name| name != admission.name()) {
        response
            .add_removal_cookie(&cookie(stale, String::new(), &req, &state.settings))
            .map_err(|e| PageError::Internal(e.to_string()))?;
    }
    Ok(response)
}

/// The cookie that admits this browser, kept until the link expires.
fn admission(share: &ShareRow, secret: String, req: &HttpRequest, settings: &Settings) -> Cookie<'static> {
    let mut admission = cookie(format!("{COOKIE_PREFIX}{}", share.id), secret, req, settings);
    let lasts = share.expires_at.map_or(Duration::days(KEPT_DAYS), |at| {
        Duration::seconds((at - Utc::now()).num_seconds().clamp(1, KEPT_DAYS * 86_400))
    });
    admission.set_max_age(lasts);
    admission
}

/// The share cookies of this browser whose links no longer work (or that are forged): cleared
/// when it opens a link, so that dead ones do not crowd out the [`MAX_PRESENTED`] looked at.
async fn stale_cookies(state: &AppState, req: &HttpRequest) -> Result<Vec<String>, PageError> {
    let presented = share_cookies(req);
    if presented.is_empty() {
        return Ok(Vec::new());
    }
    let secrets: Vec<&str> =
        presented.iter().map(|(_, secret)| secret.as_str()).filter(|s| looks_like_a_secret(s)).collect();
    let working = shares::admissions(&state.db, &secrets).await?;
    let works = |name: &str| working.iter().any(|a| name == format!("{COOKIE_PREFIX}{}", a.id));
    Ok(presented.into_iter().map(|(name, _)| name).filter(|name| !works(name)).collect())
}

/// The share secrets this browser presents (unchecked; a forged one simply admits nothing).
pub fn presented_secrets(req: &HttpRequest) -> Vec<String> {
    share_cookies(req)
        .into_iter()
        .map(|(_, secret)| secret)
        .filter(|secret| looks_like_a_secret(secret))
        .take(MAX_PRESENTED)
        .collect()
}

/// Every share cookie of the request, as (name, value).
fn share_cookies(req: &HttpRequest) -> Vec<(String, String)> {
    let Ok(cookies) = req.cookies() else { return Vec::new() };
    cookies
        .iter()
        .filter(|c| c.name().starts_with(COOKIE_PREFIX))
        .map(|c| (c.name().to_string(), c.value().to_string()))
        .collect()
}

/// The shape of [`shares::generate_secret`]: anything else is not looked up.
fn looks_like_a_secret(raw: &str) -> bool {
    raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shape_of_a_secret_is_looked_up() {
        assert!(looks_like_a_secret(&shares::generate_secret()));
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65), &"é".repeat(32)] {
            assert!(!looks_like_a_secret(bad), "{bad:?}");
        }
    }
}
