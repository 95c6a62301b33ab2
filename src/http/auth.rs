//! Who is calling: the API token of a request, checked before anything else about the request
//! (its body included) is looked at.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, ResponseError, web};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::client::client_address;
use super::error::ApiError;
use super::extract::bearer;
use super::state::AppState;
use crate::config::Settings;
use crate::domain::{Audience, Role};
use crate::store::tokens::{self, ActiveToken};

pub use crate::domain::BOOTSTRAP_TOKEN_NAME;

/// An authenticated caller, put into the request's extensions by [`authenticate_first`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A token created with `dashboard token create`.
    Token(ActiveToken),
    /// The `DASHBOARD_API_TOKEN` setting.
    Bootstrap,
}

impl Caller {
    pub fn name(&self) -> &str {
        match self {
            Self::Token(token) => &token.name,
            Self::Bootstrap => BOOTSTRAP_TOKEN_NAME,
        }
    }

    /// `DASHBOARD_API_TOKEN` is the operator's own credential: an admin.
    pub fn role(&self) -> Role {
        match self {
            Self::Token(token) => token.role,
            Self::Bootstrap => Role::Admin,
        }
    }

    /// The boards it is limited to; `None`: every board.
    pub fn boards(&self) -> Option<&[String]> {
        match self {
            Self::Token(token) => token.boards.as_deref(),
            Self::Bootstrap => None,
        }
    }

    /// Whether this board is one it may act on (whatever its role).
    pub fn may_see(&self, board: &str) -> bool {
        self.boards().is_none_or(|boards| boards.iter().any(|b| b == board))
    }

    /// Refuses (403) a caller whose role is below `needs`, or that is limited to boards and
    /// acts on another board or (`board` is `None`) on no one board, such as creating one.
    pub fn require(&self, needs: Role, board: Option<&str>) -> Result<(), ApiError> {
        self.require_role(needs)?;
        let refusal = match board {
            Some(board) if !self.may_see(board) => format!("this token may not act on board {board:?}"),
            None if self.boards().is_some() => "a token limited to boards may act only on those boards".into(),
            _ => return Ok(()),
        };
        Err(ApiError::Forbidden { message: refusal, role: self.role(), needs })
    }

    /// Refuses (403) a caller whose role is below `needs`, whatever boards it is limited to:
    /// for routes that act on each board the caller may act on.
    pub fn require_role(&self, needs: Role) -> Result<(), ApiError> {
        let role = self.role();
        if role < needs {
            let message = format!("a {role} token cannot do this; it needs the {needs} role");
            return Err(ApiError::Forbidden { message, role, needs });
        }
        Ok(())
    }

    /// [`Self::require`] for an act on several boards at once (a playlist's): each must be one it
    /// may act on, and none at all counts as no one board.
    pub fn require_all<S: AsRef<str>>(&self, needs: Role, boards: &[S]) -> Result<(), ApiError> {
        if boards.is_empty() {
            return self.require(needs, None);
        }
        boards.iter().try_for_each(|board| self.require(needs, Some(board.as_ref())))
    }

    /// The boards this caller may see: every board, or public ones and those it is limited to.
    pub fn audience(&self) -> Audience {
        match self.boards() {
            None => Audience::Everything,
            Some(boards) => Audience::Some(boards.to_vec()),
        }
    }
}

/// The caller whose secret this is.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Caller, ApiError> {
    if let Some(bootstrap) = &state.settings.bootstrap_token
        && tokens::matches_bootstrap(secret, bootstrap.expose())
    {
        return Ok(Caller::Bootstrap);
    }
    let token = tokens::authenticate(&state.db, secret).await?;
    token.map(Caller::Token).ok_or(ApiError::Unauthorized("the API token is unknown or revoked"))
}

/// Identifies the current `DASHBOARD_API_TOKEN` without revealing it: an HMAC-SHA-256 of its value
/// keyed by `SECRET_KEY_BASE`. A session stores this, so changing the setting ends the sessions
/// opened with the old value.
pub fn bootstrap_fingerprint(settings: &Settings) -> Option<[u8; 32]> {
    let token = settings.bootstrap_token.as_ref()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(settings.secret_key_base.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(token.expose().as_bytes());
    Some(mac.finalize().into_bytes().into())
}

/// Checks the credentials of an API request before its handler, and so before any byte of its
/// body is read: a wrong token is a 401 whatever the body, and a write without a token is a 401
/// without its body being read. A valid token's [`Caller`] goes into the request's extensions.
/// An address with too many failures (`AUTH_FAILURE_LIMIT`) gets a 429 before its credential is
/// looked at, so that guessing stops.
pub async fn authenticate_first(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if is_api(req.path())
        && let Err(error) = identify_caller(&req).await
    {
        return Ok(req.into_response(error.error_response()).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

/// Puts the caller of an API request into its extensions; anonymous reads pass as they are.
async fn identify_caller(req: &ServiceRequest) -> Result<(), ApiError> {
    let state =
        req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    let presented = presented_secret(req.request());
    if matches!(presented, Presented::Nothing) && !is_write(req.method()) {
        return Ok(());
    }
    let caller = check_credential(state, req.request(), presented).await?;
    req.extensions_mut().insert(caller);
    Ok(())
}

/// The caller whose credential this is, or a 401. An address with too many failures
/// (`AUTH_FAILURE_LIMIT`) is refused before its credential is looked at, and each failure counts.
pub async fn check_credential(state: &AppState, req: &HttpRequest, presented: Presented) -> Result<Caller, ApiError> {
    let address = client_address(req, state.settings.trust_proxy);
    let failures = &state.limits.auth_failures;
    failures.check(address)?;
    let outcome = match presented {
        Presented::Secret(secret) => authenticate(state, &secret).await,
        Presented::Malformed => Err(ApiError::Unauthorized("send the API token as Authorization: Bearer <token>")),
        Presented::Nothing => Err(ApiError::Unauthorized("send an API token: Authorization: Bearer <token>")),
    };
    match outcome {
        Ok(caller) => {
            tracing::debug!(token = %caller.name(), "authenticated");
            Ok(caller)
        }
        Err(unauthorized @ ApiError::Unauthorized(_)) => {
            failures.failed(address)?;
            Err(unauthorized)
        }
        Err(other) => Err(other),
    }
}

/// The JSON API. `/metrics`, `/health` and `/dashboard/debug` have rules of their own: the
/// operator's endpoints take a Bearer token that is not an API token.
fn is_api(path: &str) -> bool {
    (path == "/dashboard" || path.starts_with("/dashboard/")) && path != "/dashboard/debug"
}

fn is_write(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

/// The credential a request presents.
pub enum Presented {
    Secret(String),
    /// An `Authorization` header that is not `Bearer <token>`.
    Malformed,
    Nothing,
}

/// The request's `Authorization: Bearer` credential.
pub fn presented_secret(req: &HttpRequest) -> Presented {
    match bearer(req) {
        Some(secret) => Presented::Secret(secret),
        None if req.headers().contains_key(AUTHORIZATION) => Presented::Malformed,
        None => Presented::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn presented(authorization: Option<&str>) -> Presented {
        let mut req = TestRequest::default();
        if let Some(value) = authorization {
            req = req.insert_header((AUTHORIZATION, value));
        }
        presented_secret(&req.to_http_request())
    }

    #[test]
    fn only_a_bearer_token_is_a_credential() {
        assert!(matches!(presented(Some("Bearer abc ")), Presented::Secret(s) if s == "abc"));
        assert!(matches!(presented(Some("bearer abc")), Presented::Secret(_)));
        for malformed in ["Basic dXNlcjpwdw==", "Bearer ", "Bearer", "abc"] {
            assert!(matches!(presented(Some(malformed)), Presented::Malformed), "{malformed}");
        }
        assert!(matches!(presented(None), Presented::Nothing));
    }

    #[test]
    fn the_operators_endpoints_are_not_the_api() {
        assert!(is_api("/dashboard") && is_api("/dashboard/boards/x") && is_api("/dashboard/events"));
        assert!(!is_api("/dashboard/debug") && !is_api("/metrics") && !is_api("/dashboardx") && !is_api("/manage"));
    }
}
