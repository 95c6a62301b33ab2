use serde_json::Value as Json;

use super::fields::{Fields, ValidationErrors};
use super::slug::Slug;
use super::visibility::Visibility;

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 2000;

#[derive(Debug, Clone)]
pub struct NewBoard {
    pub slug: Slug,
    pub title: String,
    pub description: String,
    pub columns: i32,
    pub visibility: Visibility,
}

/// A PATCH: only the fields present change.
#[derive(Debug, Clone, Default)]
pub struct BoardPatch {
    pub slug: Option<Slug>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub columns: Option<i32>,
    pub visibility: Option<Visibility>,
}

impl NewBoard {
    /// A board without a `visibility` gets `default_visibility` (`DEFAULT_BOARD_VISIBILITY`).
    pub fn parse(json: &Json, default_visibility: Visibility) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json)?;
        let title = f.required_string("title", 1, MAX_TITLE);
        let slug = match f.raw("slug") {
            Some(_) => slug_field(&mut f, "slug"),
            None => title
                .as_deref()
                .and_then(|t| Slug::derive(t).or_else(|| f.fail("slug", "cannot be derived from the title; give one"))),
        };
        let description = f.string("description", MAX_DESCRIPTION).unwrap_or_default();
        let columns = f.integer("columns", 1, 12).unwrap_or(4) as i32;
        let visibility = f.raw("visibility").and_then(|_| visibility_field(&mut f)).unwrap_or(default_visibility);
        let errors = f.errors;
        match (slug, title) {
            (Some(slug), Some(title)) if errors.is_empty() => {
                Ok(Self { slug, title, description, columns, visibility })
            }
            _ => Err(errors),
        }
    }
}

impl BoardPatch {
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
        let mut f = Fields::of(json)?;
        let patch = Self {
            slug: f.raw("slug").and_then(|_| slug_field(&mut f, "slug")),
            title: f.raw("title").and_then(|_| f.required_string("title", 1, MAX_TITLE)),
            description: f.string("description", MAX_DESCRIPTION),
            columns: f.integer("columns", 1, 12).map(|n| n as i32),
            visibility: f.raw("visibility").and_then(|_| visibility_field(&mut f)),
        };
        f.errors.into_result(patch)
    }
}

/// Reads a field that must be a valid slug (board slug or widget key).
pub(super) fn slug_field(f: &mut Fields<'_>, name: &str) -> Option<Slug> {
    match f.raw(name) {
        Some(Json::String(raw)) => Slug::parse(raw).map_err(|rule| f.fail::<()>(name, rule)).ok(),
        Some(_) => f.fail(name, "must be a string"),
        None => f.fail(name, "is required"),
    }
}

fn visibility_field(f: &mut Fields<'_>) -> Option<Visibility> {
    match f.raw("visibility") {
        Some(Json::String(raw)) => raw.parse().map_err(|rule| f.fail::<()>("visibility", rule)).ok(),
        _ => f.fail("visibility", super::visibility::VISIBILITY_RULE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slug_is_derived_from_title() {
        let b = NewBoard::parse(&json!({"title": "Ops Floor"}), Visibility::Public).unwrap();
        assert_eq!(b.slug.as_str(), "ops-floor");
        assert_eq!(b.columns, 4);
    }

    #[test]
    fn visibility_defaults_to_the_setting_and_is_one_of_two_words() {
        let b = NewBoard::parse(&json!({"title": "Ops"}), Visibility::Private).unwrap();
        assert_eq!(b.visibility, Visibility::Private);
        let b = NewBoard::parse(&json!({"title": "Ops", "visibility": "public"}), Visibility::Private).unwrap();
        assert_eq!(b.visibility, Visibility::Public);
        for bad in [json!("hidden"), json!(true), json!("PUBLIC")] {
            let e = NewBoard::parse(&json!({"title": "Ops", "visibility": bad}), Visibility::Public).unwrap_err();
            assert!(e.get("visibility").is_some(), "{bad}");
            assert!(BoardPatch::parse(&json!({"visibility": bad})).is_err(), "{bad}");
        }
        assert_eq!(BoardPatch::parse(&json!({"visibility": "private"})).unwrap().visibility, Some(Visibility::Private));
    }

    #[test]
    fn every_bad_field_is_named() {
        let e =
            NewBoard::parse(&json!({"slug": "Bad Slug", "title": "", "columns": 13}), Visibility::Public).unwrap_err();
        assert!(e.get("slug").is_some() && e.get("title").is_some() && e.get("columns").is_some(), "{e:?}");
        let e = NewBoard::parse(&json!({"title": "x".repeat(201), "description": 5}), Visibility::Public).unwrap_err();
        assert!(e.get("title").is_some() && e.get("description").is_some());
    }

    #[test]
    fn patch_takes_only_present_fields() {
        let p = BoardPatch::parse(&json!({"columns": 6})).unwrap();
        assert_eq!(p.columns, Some(6));
        assert!(p.title.is_none() && p.slug.is_none());
        assert!(BoardPatch::parse(&json!({"title": " "})).is_err());
    }
}
