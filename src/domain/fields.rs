use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

/// Field name → what is wrong with it; becomes the `details` of a 422.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(BTreeMap<String, String>);

impl ValidationErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// Prefixes every field, e.g. `config.` or `events[3].`.
    pub fn nested(self, prefix: &str) -> Self {
        Self(self.0.into_iter().map(|(k, v)| (format!("{prefix}{k}"), v)).collect())
    }

    pub fn merge(&mut self, other: Self) {
        for (k, v) in other.0 {
            self.add(k, v);
        }
    }

    pub fn into_result<T>(self, ok: T) -> Result<T, Self> {
        if self.is_empty() { Ok(ok) } else { Err(self) }
    }
}

/// Reads typed fields out of a JSON object, collecting every problem instead of stopping at the first.
pub struct Fields<'a> {
    object: &'a Map<String, Json>,
    pub errors: ValidationErrors,
}

impl<'a> Fields<'a> {
    pub fn of(json: &'a Json) -> Result<Self, ValidationErrors> {
        match json {
            Json::Object(object) => Ok(Self::of_object(object)),
            _ => Err(ValidationErrors::single("body", "must be a JSON object")),
        }
    }

    pub fn of_object(object: &'a Map<String, Json>) -> Self {
        Self { object, errors: ValidationErrors::default() }
    }

    pub fn raw(&self, name: &str) -> Option<&'a Json> {
        self.object.get(name).filter(|v| !v.is_null())
    }

    pub fn string(&mut self, name: &str, max_chars: usize) -> Option<String> {
        match self.raw(name)? {
            Json::String(s) => match check_text(s, max_chars) {
                Ok(()) => Some(s.clone()),
                Err(message) => self.fail(name, message),
            },
            _ => self.fail(name, "must be a string"),
        }
    }

    pub fn required_string(&mut self, name: &str, min_chars: usize, max_chars: usize) -> Option<String> {
        match self.string(name, max_chars) {
            Some(s) if s.trim().chars().count() < min_chars => self.fail(name, "must not be blank"),
            Some(s) => Some(s),
            None if self.raw(name).is_none() => self.fail(name, "is required"),
            None => None,
        }
    }

    pub fn integer(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        match self.raw(name)?.as_i64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => self.fail(name, format!("must be a whole number from {min} to {max}")),
        }
    }

    /// [`Self::integer`] that must be given.
    pub fn required_integer(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        match self.raw(name) {
            Some(_) => self.integer(name, min, max),
            None => self.fail(name, "is required"),
        }
    }

    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.raw(name)? {
            Json::Bool(b) => Some(*b),
            _ => self.fail(name, "must be true or false"),
        }
    }

    /// A string that must be one of `choices`.
    pub fn choice(&mut self, name: &str, choices: &[&'static str]) -> Option<&'static str> {
        let raw = self.raw(name)?;
        match choices.iter().find(|c| raw.as_str() == Some(c)) {
            Some(choice) => Some(choice),
            None => self.fail(name, format!("must be one of {}", choices.join(", "))),
        }
    }

    pub fn fail<T>(&mut self, name: &str, message: impl Into<String>) -> Option<T> {
        self.errors.add(name, message);
        None
    }
}

/// Text limits count characters, and PostgreSQL cannot store NUL in text or jsonb.
pub fn check_text(s: &str, max_chars: usize) -> Result<(), String> {
    if s.contains('\0') {
        Err("must not contain NUL characters".into())
    } else if s.chars().count() > max_chars {
        Err(format!("must be at most {max_chars} characters"))
    } else {
        Ok(())
    }
}
