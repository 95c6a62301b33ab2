//! Signing in to the management pages. A session lives on the server, in the `sessions` table;
//! the browser's cookie carries only its random secret. So signing out ends it in every browser
//! that holds a copy, its 12 hours are counted by the server, and it ends as soon as its token is
//! revoked or `DASHBOARD_API_TOKEN` changes. A cookie the server does not know is simply "not
//! signed in".
//!
//! Before signing in there is no session, so the sign-in form's CSRF token travels in a cookie
//! of its own and must come back equal in the form (a cross-site post does not carry a
//! SameSite=Lax cookie).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::config::{AppEnv, Settings, random_hex};
use crate::domain::Role;
use crate::http::AppState;
use crate::http::auth::{Caller, bootstrap_fingerprint};
use crate::http::https::arrived_over_https;
use crate::http::pages::{PageError, no_board};
use crate::store::sessions::{self, NewSession, Opener};
use crate::store::{Db, StoreResult};

const SESSION_COOKIE: &str = "dashboard_session";
const SIGN_IN_COOKIE: &str = "dashboard_sign_in";
/// The least role that may sign in to the management pages.
pub const MANAGER_ROLE: Role = Role::Editor;
/// How long a sign-in lasts.
const SESSION_HOURS: i32 = 12;

/// A cookie of the sign-in (or of a share link): HttpOnly, SameSite=Lax, and Secure in production
/// or when the request came over HTTPS (behind a trusted proxy, as its `X-Forwarded-Proto`
/// says). For the whole site, since the board pages and their streams show a signed-in manager
/// the private boards too.
pub fn cookie(
    name: impl Into<Cow<'static, str>>,
    value: String,
    req: &HttpRequest,
    settings: &Settings,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.app_env == AppEnv::Production || arrived_over_https(req))
        .finish()
}

fn matches(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// The sign-in form's CSRF token, and the cookie to set when the browser has none yet.
pub fn sign_in_csrf(req: &HttpRequest, settings: &Settings) -> (String, Option<Cookie<'static>>) {
    match req.cookie(SIGN_IN_COOKIE) {
        Some(existing) if !existing.value().is_empty() => (existing.value().to_string(), None),
        _ => {
            let token = random_hex(32);
            (token.clone(), Some(cookie(SIGN_IN_COOKIE, token, req, settings)))
        }
    }
}

/// Checks the sign-in form's CSRF token against the browser's sign-in cookie, in constant time.
pub fn verify_sign_in_csrf(req: &HttpRequest, presented: &str) -> Result<(), PageError> {
    let expected = req.cookie(SIGN_IN_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if matches(&expected, presented) { Ok(()) } else { Err(PageError::Forbidden) }
}

/// Opens a session for this caller and answers with a redirect to `/manage` that sets its cookie.
/// Sessions that expired or lost their token are cleared out on the way.
pub async fn sign_in(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    redirect: HttpResponse,
) -> Result<HttpResponse, PageError> {
    sessions::delete_dead(&state.db).await?;
    let opener = match caller {
        Caller::Token(token) => Opener::Token(token.id),
        Caller::Bootstrap => Opener::Bootstrap(
            bootstrap_fingerprint(&state.settings)
                .ok_or_else(|| PageError::Internal("signed in with an unset DASHBOARD_API_TOKEN".into()))?,
        ),
    };
    let secret = random_hex(32);
    let flash = format!("Signed in with the token “{}”.", caller.name());
    let new = NewSession { secret: &secret, opener, csrf: &random_hex(32), flash: &flash, hours: SESSION_HOURS };
    sessions::create(&state.db, &new).await?;
    let mut session = cookie(SESSION_COOKIE, secret, req, &state.settings);
    session.set_max_age(Duration::hours(SESSION_HOURS.into()));
    let mut response = redirect;
    response.add_cookie(&session).map_err(|e| PageError::Internal(e.to_string()))?;
    response
        .add_removal_cookie(&cookie(SIGN_IN_COOKIE, String::new(), req, &state.settings))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(response)
}

/// A signed-in visitor of the management pages. Extracting it sends anyone else to sign in.
pub struct Manager {
    pub caller: Caller,
    pub csrf: String,
    /// A message left by the previous request ("Board created."), shown once.
    pub flash: Option<String>,
    session_id: i64,
    db: Db,
}

impl Manager {
    /// A board this manager may act on. Any other is the same 404 as a board that does not exist.
    pub fn require_board(&self, slug: &str) -> Result<(), PageError> {
        if self.caller.may_see(slug) { Ok(()) } else { Err(no_board(slug)) }
    }

    /// The pages for admins only (tokens, the audit log) do not exist for anyone else.
    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.caller.role() == Role::Admin {
            Ok(())
        } else {
            Err(PageError::NotFound("That page does not exist.".into()))
        }
    }

    /// Whether this session was opened with the stored token of this name (revoking it ends the
    /// session).
    pub fn signed_in_with(&self, token: &str) -> bool {
        matches!(&self.caller, Caller::Token(mine) if mine.name == token)
    }

    /// A token limited to boards may not create one (it could not act on it).
    pub fn may_create_boards(&self) -> bool {
        self.caller.require(Role::Editor, None).is_ok()
    }

    pub fn require_board_creation(&self) -> Result<(), PageError> {
        if self.may_create_boards() {
            Ok(())
        } else {
            Err(PageError::NotAllowed("This token is limited to some boards; it cannot create boards."))
        }
    }

    /// Leaves a message for the next page. It reports a change already made, so failing to
    /// store it is only logged.
    pub async fn flash(&self, message: &str) {
        if let Err(error) = sessions::set_flash(&self.db, self.session_id, Some(message)).await {
            tracing::warn!(%error, "could not store a message for the next page");
        }
    }

    /// Ends the session everywhere and answers with this redirect, which clears the cookie.
    pub async fn sign_out(
        self,
        req: &HttpRequest,
        redirect: HttpResponse,
        settings: &Settings,
    ) -> Result<HttpResponse, PageError> {
        sessions::delete(&self.db, self.session_id).await?;
        let mut response = redirect;
        response
            .add_removal_cookie(&cookie(SESSION_COOKIE, String::new(), req, settings))
            .map_err(|e| PageError::Internal(e.to_string()))?;
        Ok(response)
    }
}

/// The caller of the browser's session, if it is signed in. Only for reads: a cookie is sent
/// with cross-site requests too, so a write must never take it as the credential (a form of the
/// management pages proves itself with the session's CSRF token besides).
pub async fn session_caller(state: &AppState, req: &HttpRequest) -> StoreResult<Option<Caller>> {
    let Some(secret) = req.cookie(SESSION_COOKIE) else { return Ok(None) };
    let live = sessions::find_live(&state.db, secret.value(), bootstrap_fingerprint(&state.settings)).await?;
    Ok(live.map(|live| live.token.map_or(Caller::Bootstrap, Caller::Token)))
}

impl FromRequest for Manager {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let secret = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| PageError::Internal("application state missing".into()))?;
            let secret = secret.ok_or(PageError::SignInRequired)?;
            let bootstrap = bootstrap_fingerprint(&state.settings);
            let live = sessions::find_live(&state.db, &secret, bootstrap).await?.ok_or(PageError::SignInRequired)?;
            if live.flash.is_some() {
                sessions::set_flash(&state.db, live.id, None).await?;
            }
            let caller = live.token.map_or(Caller::Bootstrap, Caller::Token);
            // The token's role as it is now: one no longer allowed to manage is signed out in effect.
            if caller.role() < MANAGER_ROLE {
                return Err(PageError::SignInRequired);
            }
            Ok(Self { caller, csrf: live.csrf_token, flash: live.flash, session_id: live.id, db: state.db.clone() })
        })
    }
}

/// A form posted by a signed-in manager, its CSRF token checked.
pub struct Submitted<T> {
    pub manager: Manager,
    pub form: T,
}

/// The form of a button that only posts (sign out, delete): nothing but its CSRF token.
#[derive(serde::Deserialize)]
pub struct NoFields {}

#[derive(serde::Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for Submitted<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let manager = Manager::from_request(req, payload);
        let form = web::Form::<WithCsrf<T>>::from_request(req, payload);
        Box::pin(async move {
            let manager = manager.await?;
            let web::Form(WithCsrf { csrf, form }) =
                form.await.map_err(|e| PageError::BadRequest(format!("The form could not be read: {e}")))?;
            if !matches(&manager.csrf, &csrf) {
                return Err(PageError::Forbidden);
            }
            Ok(Self { manager, form })
        })
    }
}
