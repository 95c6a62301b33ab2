//! Failures of the HTML pages, shown as pages (the JSON API keeps its JSON errors).

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use super::layout::Layout;
use crate::http::ApiError;
use crate::http::limits::RateLimited;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("This address takes only {allow} requests.")]
    MethodNotAllowed { allow: String },
    /// A form without the session's CSRF token.
    #[error("This form has expired or did not come from this site. Go back, reload the page and try again.")]
    Forbidden,
    /// A signed-in manager whose token may not do this.
    #[error("{0}")]
    NotAllowed(&'static str),
    /// A management page without a signed-in session: sends the browser to the sign-in form.
    #[error("sign in first")]
    SignInRequired,
    #[error("The form did not arrive in time. Check your connection and send it again.")]
    RequestTimeout,
    /// Too many failed sign-ins from this address; the form is not even looked at.
    #[error("Too many failed sign-ins from your address. Try again in {} seconds.", .0.retry_after_secs())]
    RateLimited(RateLimited),
    #[error("The database is unavailable right now. This page will work again shortly.")]
    Unavailable,
    #[error("Something went wrong on our side.")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    message: &'a str,
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound("That page does not exist.".into()),
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable
            }
            // PostgreSQL refused what the visitor sent (SQLSTATE class 22): their mistake, not ours.
            StoreError::InvalidData(e) => Self::BadRequest(format!("The database refused a value: {e}")),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// An API error met by a page (its validation errors are turned into form errors before this).
impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound(what) => Self::NotFound(format!("{}.", capitalize(&what))),
            ApiError::Unavailable(_) => Self::Unavailable,
            ApiError::RateLimited(limited) => Self::RateLimited(limited),
            ApiError::BadRequest(message) => Self::BadRequest(message),
            ApiError::Forbidden { .. } => {
                Self::NotAllowed("This token may not change that: it is limited to other boards.")
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<RateLimited> for PageError {
    fn from(limited: RateLimited) -> Self {
        Self::RateLimited(limited)
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Forbidden | Self::NotAllowed(_) => StatusCode::FORBIDDEN,
            Self::SignInRequired => StatusCode::SEE_OTHER,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::SignInRequired => {
                return HttpResponse::SeeOther().insert_header((header::LOCATION, SIGN_IN)).finish();
            }
            Self::Internal(detail) => tracing::error!(%detail, "page failed"),
            _ => {}
        }
        let title = status.canonical_reason().unwrap_or("Error");
        let message = self.to_string();
        let page = ErrorPage { layout: Layout::new(title), status: status.as_u16(), message: &message };
        let mut response = HttpResponse::build(status);
        match self {
            Self::Unavailable => response.insert_header((header::RETRY_AFTER, "5")),
            Self::RateLimited(limited) => response.insert_header((header::RETRY_AFTER, limited.retry_after_secs())),
            Self::MethodNotAllowed { allow } => response.insert_header((header::ALLOW, allow.as_str())),
            _ => &mut response,
        };
        match page.render() {
            Ok(html) => response.content_type(ContentType::html()).body(html),
            Err(e) => response.content_type(ContentType::plaintext()).body(format!("{message} ({e})")),
        }
    }
}

pub const SIGN_IN: &str = "/manage/sign-in";

/// The app's fallback: an HTML page for browsers, the JSON error for the API and for clients
/// that do not ask for HTML.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if answers_in_json(&req) {
        ApiError::not_found("no such route").error_response()
    } else {
        PageError::NotFound("There is no page at this address.".into()).error_response()
    }
}

/// Gives the bodiless 405 that a route answers to a method it does not take the app's error
/// body (JSON or a page, as [`not_found`] chooses), keeping its `Allow` header.
pub fn method_not_allowed<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let allow = response.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (req, _) = response.into_parts();
    let answer = if answers_in_json(&req) {
        ApiError::MethodNotAllowed { allow }.error_response()
    } else {
        PageError::MethodNotAllowed { allow }.error_response()
    };
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, answer).map_into_right_body()))
}

/// The API's routes answer in JSON, and so does everything else for clients that do not ask for HTML.
pub fn answers_in_json(req: &HttpRequest) -> bool {
    let path = req.path();
    let api = ["/dashboard", "/health", "/metrics"].iter().any(|p| path == *p || path.starts_with(&format!("{p}/")));
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    api || !wants_html
}
