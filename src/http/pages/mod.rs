//! The HTML side: server-rendered pages that mean something without JavaScript,
//! kept live by the ES modules in `static/js/`, and the management forms under `/manage`.

mod assets;
mod board;
mod cards;
mod error;
pub mod format;
mod index;
mod layout;
mod manage;
mod playlist;
mod security;
mod share;

use actix_web::web;

pub use error::{PageError, answers_in_json, method_not_allowed, not_found};
pub use manage::session_caller;
pub use security::headers as security_headers;
pub use share::presented_secrets as presented_share_secrets;

use crate::config::Settings;
use crate::store::StoreError;

/// Routes of the pages, for `dashboard serve` only.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(web::resource("/").get(index::show))
        .service(
            web::resource("/boards/{board}")
                .app_data(path_config())
                .wrap(security::embeddable(settings))
                .get(board::show),
        )
        .service(web::resource("/boards/{board}/ticket").get(board::ticket))
        .service(
            web::resource("/playlists/{playlist}")
                .app_data(path_config())
                .wrap(security::embeddable(settings))
                .get(playlist::show),
        )
        .service(web::resource("/playlists/{playlist}/ticket").get(playlist::ticket))
        .service(web::resource("/s/{secret}").get(share::admit))
        .service(web::resource("/static/{path:.*}").get(assets::serve).head(assets::serve));
    manage::configure(cfg, settings);
}

/// A page address whose board or widget part breaks the slug rule names nothing there is: the
/// page's 404 (the app-wide rule answers with the API's JSON, and such a name must not reach SQL).
fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_, _| PageError::NotFound("There is no such board, widget or playlist.".into()).into())
}

/// Maps a failed board lookup to the page's 404.
fn board_missing(slug: &str) -> impl FnOnce(StoreError) -> PageError + '_ {
    move |error| match error {
        StoreError::NotFound => no_board(slug),
        other => other.into(),
    }
}

/// The 404 of a board that does not exist, or that the visitor may not see (told apart nowhere).
fn no_board(slug: &str) -> PageError {
    PageError::NotFound(format!("There is no board called “{slug}”."))
}
