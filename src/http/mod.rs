//! The HTTP surface: routes, extractors and the error type that maps failures to responses.

pub mod error;
pub mod extract;
pub mod metrics;
pub mod pages;
pub mod routes;
pub mod state;

pub use error::{ApiError, ApiResult};
pub use state::AppState;
