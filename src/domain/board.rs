use serde_json::Value as Json;

use super::fields::{Fields, ValidationErrors};
use super::slug::Slug;

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 2000;

#[derive(Debug, Clone)]
pub struct NewBoard {
    pub slug: Slug,
    pub title: String,
    pub description: String,
    pub columns: i32,
}

/// A PATCH: only the fields present change.
#[derive(Debug, Clone, Default)]
pub struct BoardPatch {
    pub slug: Option<Slug>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub columns: Option<i32>,
}

impl NewBoard {
    pub fn parse(json: &Json) -> Result<Self, ValidationErrors> {
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
        let errors = f.errors;
        match (slug, title) {
            (Some(slug), Some(title)) if errors.is_empty() => Ok(Self { slug, title, description, columns }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slug_is_derived_from_title() {
        let b = NewBoard::parse(&json!({"title": "Ops Floor"})).unwrap();
        assert_eq!(b.slug.as_str(), "ops-floor");
        assert_eq!(b.columns, 4);
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = NewBoard::parse(&json!({"slug": "Bad Slug", "title": "", "columns": 13})).unwrap_err();
        assert!(e.get("slug").is_some() && e.get("title").is_some() && e.get("columns").is_some(), "{e:?}");
        let e = NewBoard::parse(&json!({"title": "x".repeat(201), "description": 5})).unwrap_err();
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
