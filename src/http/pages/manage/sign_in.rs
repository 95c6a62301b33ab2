//! `/manage/sign-in` and `/manage/sign-out`.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::session::{self, NoFields, Submitted};
use super::{redirect, render};
use crate::http::extract::authenticate;
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

pub async fn form(session: Session) -> Result<HttpResponse, PageError> {
    let page = SignInPage { layout: Layout::new("Sign in"), csrf: session::csrf_token(&session), error: None };
    render(&page, StatusCode::OK)
}

pub async fn submit(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    session::verify_csrf(&session, &form.csrf)?;
    let error = match authenticate(&state, form.token.trim()).await {
        Ok(name) => {
            session::sign_in(&session, &name)?;
            return Ok(redirect("/manage"));
        }
        Err(ApiError::Unauthorized(_)) if form.token.trim().is_empty() => "Paste an API token.",
        Err(ApiError::Unauthorized(_)) => "That token is unknown or has been revoked.",
        Err(other) => return Err(other.into()),
    };
    let page = SignInPage { layout: Layout::new("Sign in"), csrf: session::csrf_token(&session), error: Some(error) };
    render(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

pub async fn sign_out(submitted: Submitted<NoFields>) -> HttpResponse {
    submitted.manager.session.purge();
    redirect("/")
}
