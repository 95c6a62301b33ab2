//! `/manage/sign-in` and `/manage/sign-out`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::session::{self, MANAGER_ROLE, NoFields, Submitted};
use super::{redirect, render};
use crate::domain::Role;
use crate::http::auth::authenticate;
use crate::http::client::client_address;
use crate::http::pages::PageError;
use crate::http::pages::layout::Layout;
use crate::http::{ApiError, AppState};

#[derive(Template)]
#[template(path = "manage/sign_in.html")]
struct SignInPage {
    layout: Layout,
    csrf: String,
    error: Option<&'static str>,
}

#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let (csrf, new_cookie) = session::sign_in_csrf(&req, &state.settings);
    let mut response = render(&SignInPage { layout: Layout::new("Sign in"), csrf, error: None }, StatusCode::OK)?;
    if let Some(cookie) = new_cookie {
        response.add_cookie(&cookie).map_err(|e| PageError::Internal(e.to_string()))?;
    }
    Ok(response)
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    // Before anything else, so that an address that has guessed too often learns nothing more.
    let address = client_address(&req, state.settings.trust_proxy);
    let failures = &state.limits.auth_failures;
    failures.check(address)?;
    session::verify_sign_in_csrf(&req, &form.csrf)?;
    let (error, status) = match authenticate(&state, form.token.trim()).await {
        Ok(caller) if caller.role() >= MANAGER_ROLE => {
            return session::sign_in(&req, &state, &caller, redirect("/manage")).await;
        }
        Ok(caller) => (below_manager(caller.role()), StatusCode::FORBIDDEN),
        Err(ApiError::Unauthorized(_)) if form.token.trim().is_empty() => {
            ("Paste an API token.", StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(ApiError::Unauthorized(_)) => {
            failures.failed(address)?;
            ("That token is unknown or has been revoked.", StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => return Err(other.into()),
    };
    let page = SignInPage { layout: Layout::new("Sign in"), csrf: form.into_inner().csrf, error: Some(error) };
    render(&page, status)
}

/// Why a valid token below the manager's role cannot sign in.
fn below_manager(role: Role) -> &'static str {
    match role {
        Role::Push => "This token can push values but not manage boards; sign in with an editor token.",
        _ => "This token can read boards but not manage them; sign in with an editor token.",
    }
}

pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    submitted: Submitted<NoFields>,
) -> Result<HttpResponse, PageError> {
    submitted.manager.sign_out(&req, redirect("/"), &state.settings).await
}
