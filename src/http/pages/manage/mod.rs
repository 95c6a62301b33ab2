//! The management pages under `/manage`: sign in with an API token, then create, edit and
//! delete boards, widgets and playlists through forms. Every form carries the session's CSRF token, and
//! every write goes through the same domain parsers and store functions as the JSON API.

mod audit;
mod boards;
mod forms;
mod layout;
mod playlists;
mod session;
mod shares;
mod sign_in;
mod tokens;
mod widgets;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::PageError;
use crate::config::Settings;
use crate::http::routes::layout::LAYOUT_BODY_LIMIT;
pub use session::{Manager, cookie, session_caller};

pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    cfg.service(
        web::scope("/manage")
            .wrap(super::security::management(settings))
            .app_data(super::path_config())
            .service(web::resource("").get(boards::index))
            .service(web::resource("/audit").get(audit::show))
            .service(web::resource("/tokens").get(tokens::show).post(tokens::create))
            .service(web::resource("/tokens/revoke").post(tokens::revoke))
            .service(web::resource("/sign-in").get(sign_in::form).post(sign_in::submit))
            .service(web::resource("/sign-out").post(sign_in::sign_out))
            .service(web::resource("/new-board").get(boards::new).post(boards::create))
            .service(web::resource("/playlists").get(playlists::index).post(playlists::create))
            .service(web::resource("/playlists/{playlist}").get(playlists::edit).post(playlists::update))
            .service(web::resource("/playlists/{playlist}/delete").post(playlists::delete))
            .service(web::resource("/boards/{board}").get(boards::edit).post(boards::update))
            .service(web::resource("/boards/{board}/delete").post(boards::delete))
            .service(
                web::resource("/boards/{board}/layout")
                    // The layout's JSON comes URL-encoded, which can triple its size.
                    .app_data(web::FormConfig::default().limit(3 * LAYOUT_BODY_LIMIT))
                    .post(layout::save),
            )
            .service(web::resource("/boards/{board}/shares").post(shares::create))
            .service(web::resource("/boards/{board}/shares/{id}/revoke").post(shares::revoke))
            .service(web::resource("/boards/{board}/new-widget").get(widgets::new).post(widgets::create))
            .service(web::resource("/boards/{board}/widgets/{widget}").get(widgets::edit).post(widgets::update))
            .service(web::resource("/boards/{board}/widgets/{widget}/delete").post(widgets::delete)),
    );
}

/// What every management page shows besides its form: who is signed in, the CSRF token for
/// its forms, and a message left by the previous request.
pub struct PageChrome {
    pub name: String,
    pub csrf: String,
    pub flash: Option<String>,
}

impl From<&Manager> for PageChrome {
    fn from(manager: &Manager) -> Self {
        Self { name: manager.caller.name().to_string(), csrf: manager.csrf.clone(), flash: manager.flash.clone() }
    }
}

/// A page with a status of its choosing: a form with errors is a 422, as in the API.
fn render(page: &impl Template, status: StatusCode) -> Result<HttpResponse, PageError> {
    let html = page.render().map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(HttpResponse::build(status).content_type(ContentType::html()).body(html))
}

/// After a successful post: "303 See Other", so reloading the next page does not post again.
fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}
