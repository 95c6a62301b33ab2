//! `/manage/tokens`, for admins: every API token, a form that creates one and a button per
//! active token that revokes it. A new token's secret is shown once, on the page that answers
//! the form; it is stored nowhere (not in the session, not in a URL).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};

use super::forms::FieldErrors;
use super::session::{Manager, Submitted};
use super::{PageChrome, redirect, render};
use crate::domain::{DEFAULT_ROLE, NewToken, Role, ValidationErrors};
use crate::http::pages::PageError;
use crate::http::pages::layout::Layout;
use crate::http::{ApiError, AppState};
use crate::store::StoreError;
use crate::store::changes;
use crate::store::tokens::{self, TokenRow};

/// The error keys the token form shows next to its fields.
const FIELDS: &[&str] = &["name", "role", "boards"];

#[derive(Template)]
#[template(path = "manage/tokens.html")]
struct TokensPage {
    layout: Layout,
    frame: PageChrome,
    tokens: Vec<Row>,
    form: TokenForm,
    errors: FieldErrors,
    roles: [(Role, &'static str); 4],
    /// The token just created, with its secret: only on the answer to the form.
    created: Option<Created>,
}

struct Row {
    name: String,
    role: Role,
    boards: String,
    created: String,
    last_used: String,
    /// `None`: active.
    revoked: Option<String>,
    /// The token this session signed in with: revoking it signs out.
    mine: bool,
}

impl Row {
    fn of(token: TokenRow, manager: &Manager) -> Self {
        let boards = match &token.boards {
            None => "all".to_string(),
            Some(boards) if boards.is_empty() => "none left".to_string(),
            Some(boards) => boards.join(", "),
        };
        Self {
            mine: manager.signed_in_with(&token.name),
            name: token.name,
            role: token.role,
            boards,
            created: when(token.created_at),
            last_used: token.last_used_at.map_or_else(|| "never".to_string(), when),
            revoked: token.revoked_at.map(when),
        }
    }
}

struct Created {
    name: String,
    secret: String,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    role: String,
    /// Board slugs separated by commas or spaces; empty is every board.
    boards: String,
}

impl TokenForm {
    fn blank() -> Self {
        Self { role: DEFAULT_ROLE.to_string(), ..Self::default() }
    }

    fn parse(&self) -> Result<NewToken, ValidationErrors> {
        let boards: Vec<String> =
            self.boards.split([',', ' ', '\n', '\r', '\t']).filter(|s| !s.is_empty()).map(String::from).collect();
        let role = Some(self.role.trim()).filter(|role| !role.is_empty());
        NewToken::from_parts(&self.name, role, (!boards.is_empty()).then_some(boards.as_slice()))
    }
}

#[derive(serde::Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    name: String,
}

pub async fn show(state: web::Data<AppState>, manager: Manager) -> Result<HttpResponse, PageError> {
    manager.require_admin()?;
    page(&state, &manager, TokenForm::blank(), FieldErrors::default(), None, StatusCode::OK).await
}

/// Answers with the page itself rather than a redirect: the secret is in this answer only.
pub async fn create(state: web::Data<AppState>, submitted: Submitted<TokenForm>) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    manager.require_admin()?;
    let created = match form.parse() {
        Ok(new) => store_token(&state, &manager, &new).await.map(|secret| Created { name: new.name, secret }),
        Err(errors) => Err(errors.into()),
    };
    match created {
        Ok(created) => {
            page(&state, &manager, TokenForm::blank(), FieldErrors::default(), Some(created), StatusCode::CREATED).await
        }
        Err(error) => {
            let errors = FieldErrors::from_api(error, FIELDS)?;
            page(&state, &manager, form, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn store_token(state: &AppState, manager: &Manager, new: &NewToken) -> Result<String, ApiError> {
    let mut conn = state.conn().await?;
    Ok(changes::create_token(&mut conn, manager.caller.name(), new).await??)
}

/// Revoking the token this session signed in with ends the session, so it signs out and goes
/// to the sign-in form instead of a page it may no longer see.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    submitted: Submitted<RevokeForm>,
) -> Result<HttpResponse, PageError> {
    let Submitted { manager, form } = submitted;
    manager.require_admin()?;
    changes::revoke_token(&mut *state.conn().await?, manager.caller.name(), &form.name).await.map_err(|e| match e {
        StoreError::NotFound => PageError::NotFound(format!("There is no active token called “{}”.", form.name)),
        other => other.into(),
    })?;
    if manager.signed_in_with(&form.name) {
        return manager.sign_out(&req, redirect("/manage/sign-in"), &state.settings).await;
    }
    manager.flash(&format!("Token “{}” revoked; its next request is refused.", form.name)).await;
    Ok(redirect("/manage/tokens"))
}

async fn page(
    state: &AppState,
    manager: &Manager,
    form: TokenForm,
    errors: FieldErrors,
    created: Option<Created>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let tokens = tokens::list(&state.db).await?.into_iter().map(|token| Row::of(token, manager)).collect();
    let roles = Role::ALL.map(|role| (role, role_hint(role)));
    let layout = Layout::new("API tokens");
    render(&TokensPage { layout, frame: PageChrome::from(manager), tokens, form, errors, roles, created }, status)
}

fn role_hint(role: Role) -> &'static str {
    match role {
        Role::Read => "reads the private boards it may see",
        Role::Push => "also pushes values to widgets of its boards: for scripts and devices",
        Role::Editor => "also creates, changes and deletes boards and widgets, and signs in here",
        Role::Admin => "everything, tokens and the audit log included; never limited to boards",
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(role: &str, boards: &str) -> TokenForm {
        TokenForm { name: "ci".into(), role: role.into(), boards: boards.into() }
    }

    #[test]
    fn boards_are_slugs_separated_by_commas_or_spaces_and_empty_is_every_board() {
        let token = form("push", " sales,ops  web,, ").parse().unwrap();
        let boards: Vec<&str> = token.boards.iter().flatten().map(|slug| slug.as_str()).collect();
        assert_eq!((token.role, boards), (Role::Push, vec!["sales", "ops", "web"]));
        assert_eq!(form("read", " , ").parse().unwrap().boards, None);
        assert_eq!(form("", "").parse().unwrap().role, DEFAULT_ROLE);
    }

    #[test]
    fn each_wrong_field_is_named() {
        assert!(form("root", "").parse().unwrap_err().get("role").is_some());
        assert!(form("admin", "ops").parse().unwrap_err().get("boards").is_some());
        assert!(form("push", "Not-A-Slug!").parse().unwrap_err().get("boards[0]").is_some());
    }
}
