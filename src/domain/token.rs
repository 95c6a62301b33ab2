//! A token to be created: its name, role and the boards it is limited to, checked once for the
//! API and the CLI alike.

use serde_json::Value as Json;

use super::fields::{Fields, ValidationErrors, check_text};
use super::role::Role;
use super::slug::Slug;

/// The name a caller authenticated with `DASHBOARD_API_TOKEN` goes by; no stored token may take
/// it, or the management pages and logs would name two credentials alike.
pub const BOOTSTRAP_TOKEN_NAME: &str = "DASHBOARD_API_TOKEN";
/// The actor the audit log names for changes made with the `dashboard` command line; no token
/// may take it, or the log could not tell the two apart.
pub const CLI_ACTOR: &str = "cli";
pub const MAX_TOKEN_NAME: usize = 100;
/// A new token's role when none is named: enough to manage boards, not tokens.
pub const DEFAULT_ROLE: Role = Role::Editor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// `None`: every board.
    pub boards: Option<Vec<Slug>>,
}

impl NewToken {
    /// `{"name", "role"?, "boards"?}` of `POST /dashboard/tokens`.
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json)?;
        let name = f.string("name", usize::MAX);
        let role = match f.raw("role") {
            Some(Json::String(role)) => Some(role.as_str()),
            Some(_) => f.fail("role", "must be a string"),
            None => None,
        };
        let boards = match f.raw("boards") {
            None => None,
            Some(raw) => {
                let slugs: Option<Vec<String>> =
                    raw.as_array().and_then(|items| items.iter().map(|b| b.as_str().map(String::from)).collect());
                slugs.or_else(|| f.fail("boards", "must be a list of board slugs"))
            }
        };
        let mut errors = f.errors;
        match Self::from_parts(name.as_deref().unwrap_or_default(), role, boards.as_deref()) {
            Ok(token) if errors.is_empty() => Ok(token),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.merge(more);
                Err(errors)
            }
        }
    }

    /// Checks each part and how they fit together: an admin names no boards, a limited token at
    /// least one (`None` is every board).
    pub fn from_parts(name: &str, role: Option<&str>, boards: Option<&[String]>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = name.trim();
        if let Err(message) = check_name(name) {
            errors.add("name", message);
        }
        let role = role.map_or(Ok(DEFAULT_ROLE), str::parse).map_err(|message| errors.add("role", message)).ok();
        let boards = match boards {
            None => None,
            Some([]) => {
                errors.add("boards", "name at least one board, or leave boards out for every board");
                None
            }
            Some(_) if role == Some(Role::Admin) => {
                errors.add("boards", "an admin token acts on every board; leave boards out");
                None
            }
            Some(slugs) => Some(board_slugs(slugs, &mut errors)),
        };
        match role {
            Some(role) if errors.is_empty() => Ok(Self { name: name.to_string(), role, boards }),
            _ => Err(errors),
        }
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must be 1 to 100 characters".into());
    }
    if name == BOOTSTRAP_TOKEN_NAME {
        return Err(format!("{name:?} is reserved for the DASHBOARD_API_TOKEN setting; choose another name"));
    }
    if name == CLI_ACTOR {
        return Err(format!("{name:?} is reserved for changes made on the command line; choose another name"));
    }
    check_text(name, MAX_TOKEN_NAME)
}

/// The slugs, each once, in the order given.
fn board_slugs(raw: &[String], errors: &mut ValidationErrors) -> Vec<Slug> {
    let mut slugs: Vec<Slug> = Vec::with_capacity(raw.len());
    for (i, slug) in raw.iter().enumerate() {
        match Slug::parse(slug) {
            Ok(slug) if !slugs.contains(&slug) => slugs.push(slug),
            Ok(_) => {}
            Err(rule) => errors.add(format!("boards[{i}]"), rule),
        }
    }
    slugs
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(body: Json, field: &str) -> String {
        let errors = NewToken::parse(&body).expect_err("refused");
        errors.get(field).unwrap_or_else(|| panic!("no error on {field}: {errors:?}")).to_string()
    }

    #[test]
    fn a_token_is_an_editor_of_every_board_unless_told_otherwise() {
        let token = NewToken::parse(&json!({"name": " ci "})).unwrap();
        assert_eq!(token, NewToken { name: "ci".into(), role: Role::Editor, boards: None });
        let token = NewToken::parse(&json!({"name": "ci", "role": "push", "boards": ["a", "b", "a"]})).unwrap();
        assert_eq!(token.role, Role::Push);
        assert_eq!(token.boards.unwrap().iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn each_wrong_part_is_named() {
        assert!(error(json!({}), "name").contains("1 to 100"));
        assert!(error(json!({"name": "x".repeat(101)}), "name").contains("at most 100"));
        assert!(error(json!({"name": "DASHBOARD_API_TOKEN"}), "name").contains("reserved"));
        assert!(error(json!({"name": "a", "role": "root"}), "role").contains("one of"));
        assert!(error(json!({"name": "a", "role": 3}), "role").contains("string"));
        assert!(error(json!({"name": "a", "boards": "demo"}), "boards").contains("list"));
        assert!(error(json!({"name": "a", "boards": []}), "boards").contains("at least one"));
        assert!(error(json!({"name": "a", "role": "admin", "boards": ["demo"]}), "boards").contains("admin"));
        assert!(!error(json!({"name": "a", "boards": ["Not A Slug"]}), "boards[0]").is_empty());
    }
}
