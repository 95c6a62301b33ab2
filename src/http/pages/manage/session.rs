//! Signing in to the management pages: a signed session cookie (keyed by `SECRET_KEY_BASE`)
//! that names the API token it signed in with, and a CSRF token that every form carries.

use std::future::Future;
use std::pin::Pin;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionExt, SessionMiddleware};
use actix_web::cookie::{Key, SameSite, time::Duration};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::config::{AppEnv, Settings, random_hex};
use crate::http::AppState;
use crate::http::extract::BOOTSTRAP_TOKEN_NAME;
use crate::http::pages::PageError;
use crate::store::tokens;

const COOKIE: &str = "dashboard_session";
/// How long a sign-in lasts.
const SESSION_HOURS: i64 = 12;
const TOKEN_KEY: &str = "token";
const CSRF_KEY: &str = "csrf";
const FLASH_KEY: &str = "flash";

/// The cookie session of `/manage`: signed, HttpOnly, SameSite=Lax, Secure in production.
pub fn middleware(settings: &Settings) -> SessionMiddleware<CookieSessionStore> {
    // SECRET_KEY_BASE is at least 32 characters (checked at start-up), as `derive_from` needs.
    let key = Key::derive_from(settings.secret_key_base.expose().as_bytes());
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name(COOKIE.into())
        .cookie_path("/manage".into())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(settings.app_env == AppEnv::Production)
        .cookie_content_security(CookieContentSecurity::Signed)
        .session_lifecycle(PersistentSession::default().session_ttl(Duration::hours(SESSION_HOURS)))
        .build()
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF_KEY) {
        return token;
    }
    let token = random_hex(32);
    // A cookie session only fails to serialize a String if something is badly wrong; the next
    // form post then fails the CSRF check, which is the safe outcome.
    let _ = session.insert(CSRF_KEY, &token);
    token
}

/// Checks a form's CSRF token against the session's, in constant time.
pub fn verify_csrf(session: &Session, presented: &str) -> Result<(), PageError> {
    let expected = session.get::<String>(CSRF_KEY).ok().flatten().ok_or(PageError::Forbidden)?;
    if bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) { Ok(()) } else { Err(PageError::Forbidden) }
}

/// Starts a signed-in session for this token name, with a fresh CSRF token.
pub fn sign_in(session: &Session, name: &str) -> Result<(), PageError> {
    session.renew();
    session.clear();
    session.insert(TOKEN_KEY, name).map_err(|e| PageError::Internal(e.to_string()))?;
    csrf_token(session);
    flash(session, &format!("Signed in with the token “{name}”."));
    Ok(())
}

/// A message for the next page, shown once.
pub fn flash(session: &Session, message: &str) {
    let _ = session.insert(FLASH_KEY, message);
}

/// A signed-in visitor of the management pages. Extracting it sends anyone else to sign in.
pub struct Manager {
    pub name: String,
    pub csrf: String,
    /// A message left by the previous request ("Board created."), shown once.
    pub flash: Option<String>,
    pub session: Session,
}

impl FromRequest for Manager {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| PageError::Internal("application state missing".into()))?;
            let name = session.get::<String>(TOKEN_KEY).ok().flatten().ok_or(PageError::SignInRequired)?;
            if !token_is_active(&state, &name).await? {
                session.purge();
                return Err(PageError::SignInRequired);
            }
            let flash = session.remove_as::<String>(FLASH_KEY).and_then(Result::ok);
            Ok(Self { name, csrf: csrf_token(&session), flash, session })
        })
    }
}

async fn token_is_active(state: &AppState, name: &str) -> Result<bool, PageError> {
    if name == BOOTSTRAP_TOKEN_NAME {
        return Ok(state.settings.bootstrap_token.is_some());
    }
    Ok(tokens::is_active(&state.db, name).await?)
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
            verify_csrf(&manager.session, &csrf)?;
            Ok(Self { manager, form })
        })
    }
}
