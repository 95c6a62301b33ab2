//! The HTTP surface: routes, extractors and the error type that maps failures to responses.

pub mod access_log;
pub mod audience;
pub mod auth;
pub mod body_deadline;
pub mod client;
pub mod error;
pub mod extract;
pub mod https;
pub mod limits;
pub mod metrics;
pub mod operator;
pub mod pages;
pub mod panics;
pub mod permit_body;
pub mod routes;
pub mod state;

pub use error::{ApiError, ApiResult};
pub use state::AppState;

/// `201 Created` with the new resource's `Location` and its JSON.
pub fn created(location: String, body: &impl serde::Serialize) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Created().insert_header((actix_web::http::header::LOCATION, location)).json(body)
}
