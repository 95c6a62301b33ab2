//! HTML forms in, the domain's JSON parsers out: a form's text fields become the JSON object
//! `NewBoard::parse` and friends expect, so the pages validate exactly as the API does, and
//! the parsers' errors come back to the fields they name.

use serde_json::{Map, Value as Json};

use crate::domain::ValidationErrors;
use crate::http::ApiError;

/// A JSON object built from form fields; empty fields are left out (the parser's default).
#[derive(Default)]
pub struct JsonForm(Map<String, Json>);

impl JsonForm {
    pub fn from_map(map: Map<String, Json>) -> Self {
        Self(map)
    }

    /// A text field; empty means "not given".
    pub fn text(&mut self, key: &str, value: &str) -> &mut Self {
        self.0.remove(key);
        if !value.trim().is_empty() {
            self.0.insert(key.into(), Json::String(value.to_string()));
        }
        self
    }

    /// A text field where empty is a value of its own (a cleared description).
    pub fn text_or_empty(&mut self, key: &str, value: &str) -> &mut Self {
        self.0.insert(key.into(), Json::String(value.to_string()));
        self
    }

    /// A numeric field; text that is no number is passed on as text, so the parser names
    /// the field with its usual message.
    pub fn number(&mut self, key: &str, value: &str) -> &mut Self {
        self.0.remove(key);
        if let Some(json) = number_or_text(value) {
            self.0.insert(key.into(), json);
        }
        self
    }

    pub fn set(&mut self, key: &str, value: Option<Json>) -> &mut Self {
        self.0.remove(key);
        if let Some(value) = value {
            self.0.insert(key.into(), value);
        }
        self
    }

    pub fn build(&self) -> Json {
        Json::Object(self.0.clone())
    }
}

pub fn number_or_text(value: &str) -> Option<Json> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let json = match (value.parse::<i64>(), value.parse::<f64>()) {
        (Ok(n), _) => Json::from(n),
        (_, Ok(n)) if n.is_finite() => Json::from(n),
        _ => Json::String(value.to_string()),
    };
    Some(json)
}

/// Validation errors of a form, looked up by the field they belong to.
#[derive(Default)]
pub struct FieldErrors {
    errors: ValidationErrors,
    /// The error keys the form shows next to a field; others are listed above the form.
    fields: &'static [&'static str],
}

impl FieldErrors {
    pub fn new(errors: ValidationErrors, fields: &'static [&'static str]) -> Self {
        Self { errors, fields }
    }

    /// Turns an API error of a write into form errors (a duplicate slug names its field).
    pub fn from_api(error: ApiError, fields: &'static [&'static str]) -> Result<Self, ApiError> {
        match error {
            ApiError::Validation(errors) => Ok(Self::new(errors, fields)),
            ApiError::Conflict { message, field } => Ok(Self::new(ValidationErrors::single(field, message), fields)),
            other => Err(other),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The message for `field` or anything nested in it (`config.thresholds[2]` belongs to
    /// `config.thresholds`).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(key, _)| belongs_to(key, field)).map(|(_, message)| message.as_str())
    }

    /// Errors no field of the form shows, as "field: message".
    pub fn unplaced(&self) -> Vec<String> {
        self.errors
            .iter()
            .filter(|(key, _)| !self.fields.iter().any(|field| belongs_to(key, field)))
            .map(|(key, message)| if key.is_empty() { message.clone() } else { format!("{key}: {message}") })
            .collect()
    }
}

fn belongs_to(key: &str, field: &str) -> bool {
    key.strip_prefix(field).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_fields_are_left_out_and_numbers_parsed() {
        let mut form = JsonForm::default();
        form.text("title", "Ops").text("slug", " ").number("columns", "3").number("min", "0.5").number("max", "lots");
        assert_eq!(form.build(), json!({"title": "Ops", "columns": 3, "min": 0.5, "max": "lots"}));
    }

    #[test]
    fn nested_errors_find_their_field() {
        let mut errors = ValidationErrors::default();
        errors.add("config.thresholds[1]", "bad");
        errors.add("config.source.url", "not a URL");
        errors.add("body", "odd");
        let errors = FieldErrors::new(errors, &["config.thresholds", "config.source.url"]);
        assert_eq!(errors.get("config.thresholds"), Some("bad"));
        assert_eq!(errors.get("config.source.url"), Some("not a URL"));
        assert_eq!(errors.get("config.source.urls"), None);
        assert_eq!(errors.unplaced(), vec!["body: odd".to_string()]);
    }
}
