//! The one error type of the JSON API: every failure becomes
//! `{"error": {"code", "message", "details"}}` with the status the README's API section gives it.

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use super::limits::RateLimited;
use crate::domain::{FileError, Role, ValidationErrors};
use crate::realtime::ReadFailed;
use crate::store::StoreError;
use crate::store::tokens::UnknownBoards;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A valid credential without the role or the board this needs.
    #[error("{message}")]
    Forbidden { message: String, role: Role, needs: Role },
    #[error("{0}")]
    NotFound(String),
    #[error("this route takes only {allow}")]
    MethodNotAllowed { allow: String },
    #[error("{message}")]
    Conflict { message: String, field: &'static str },
    /// A widget key that names widgets on several boards, where the request names no board.
    #[error("widget {key:?} is on several boards; keep it on one, or set SMASHING_BOARD")]
    AmbiguousWidget { key: String, boards: Vec<String> },
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("send the body as JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("the request is invalid")]
    Validation(ValidationErrors),
    /// A boards file refused by its first problem; the message is the one line naming its path.
    #[error("{0}")]
    InvalidFile(FileError),
    #[error("{}", .0.message)]
    RateLimited(RateLimited),
    #[error("{0}")]
    Unavailable(&'static str),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Conflict { .. } | Self::AmbiguousWidget { .. } => "conflict",
            Self::RequestTimeout => "request_timeout",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Validation(_) | Self::InvalidFile(_) => "validation_failed",
            Self::RateLimited(_) => "rate_limited",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn details(&self) -> serde_json::Value {
        match self {
            Self::Validation(errors) => json!(errors),
            Self::InvalidFile(error) => json!({ error.path.as_str(): error.message }),
            Self::Conflict { field, .. } => json!({ *field: "is already taken" }),
            Self::RateLimited(limited) => json!({ "retry_after": limited.retry_after_secs() }),
            Self::Forbidden { role, needs, .. } => json!({ "role": role, "needs": needs }),
            Self::AmbiguousWidget { boards, .. } => json!({ "boards": boards }),
            _ => json!({}),
        }
    }

    /// Maps a store error, naming the missing thing for a 404.
    pub fn from_store(error: StoreError, missing: impl FnOnce() -> String) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound(missing()),
            other => other.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound("not found".into()),
            StoreError::Conflict { constraint } => conflict(&constraint),
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable("the database is unavailable; try again shortly")
            }
            StoreError::InvalidData(e) => Self::BadRequest(format!("the database refused a value: {e}")),
            StoreError::Other(e) => Self::Internal(e.to_string()),
        }
    }
}

/// A read shared by the streams opening at the same moment failed: as a read of its own would.
impl From<ReadFailed> for ApiError {
    fn from(error: ReadFailed) -> Self {
        if error.unavailable {
            tracing::warn!(error = %error, "database unavailable");
            Self::Unavailable("the database is unavailable; try again shortly")
        } else {
            Self::Internal(error.message)
        }
    }
}

/// A new token naming boards that do not exist: an error of its `boards` field.
impl From<UnknownBoards> for ApiError {
    fn from(UnknownBoards(slugs): UnknownBoards) -> Self {
        let names: Vec<String> = slugs.iter().map(|s| format!("{s:?}")).collect();
        ValidationErrors::single("boards", format!("no board {}", names.join(", "))).into()
    }
}

impl From<RateLimited> for ApiError {
    fn from(limited: RateLimited) -> Self {
        Self::RateLimited(limited)
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

fn conflict(constraint: &str) -> ApiError {
    let (field, message) = match constraint {
        c if c.starts_with("boards_slug") => ("slug", "a board with this slug already exists"),
        c if c.starts_with("widgets_board_id_key") => ("key", "this board already has a widget with this key"),
        c if c.starts_with("api_tokens_name") => ("name", "a token with this name already exists"),
        c if c.starts_with("playlists_name") => ("name", "a playlist with this name already exists"),
        _ => ("", "this already exists"),
    };
    ApiError::Conflict { message: message.into(), field }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } | Self::AmbiguousWidget { .. } => StatusCode::CONFLICT,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) | Self::InvalidFile(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((WWW_AUTHENTICATE, "Bearer realm=\"dashboard\""));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((ALLOW, allow.as_str()));
            }
            Self::RateLimited(limited) => {
                response.insert_header((RETRY_AFTER, limited.retry_after_secs()));
            }
            Self::Unavailable(_) => {
                response.insert_header((RETRY_AFTER, "5"));
            }
            Self::Internal(detail) => tracing::error!(%detail, "internal error"),
            _ => {}
        }
        response.json(json!({"error": {"code": self.code(), "message": self.to_string(), "details": self.details()}}))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
