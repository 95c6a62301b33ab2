use std::fmt;

/// A board slug or widget key: `^[a-z0-9][a-z0-9-]{0,62}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Slug(String);

pub const SLUG_RULE: &str = "must be 1-63 lowercase letters, digits or '-', starting with a letter or digit";

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let valid_first = raw.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let valid_rest = raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if raw.len() <= 63 && valid_first && valid_rest { Ok(Self(raw.to_string())) } else { Err(SLUG_RULE) }
    }

    /// Derives a slug from a title: "Ops — Main Floor!" → "ops-main-floor". `None` when nothing usable is left.
    pub fn derive(title: &str) -> Option<Self> {
        let mut slug = String::new();
        for c in title.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug.chars().take(63).collect();
        Self::parse(slug.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl std::ops::Deref for Slug {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_spec_pattern() {
        for ok in ["a", "0", "ops", "ops-1", "a--b", &"x".repeat(63)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "A", "a_b", "a b", "é", &"x".repeat(64), "a\0"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn derives_from_titles() {
        assert_eq!(Slug::derive("Ops — Main Floor!").unwrap().as_str(), "ops-main-floor");
        assert_eq!(Slug::derive("  CPU 42 ").unwrap().as_str(), "cpu-42");
        assert!(Slug::derive("!!!").is_none());
        assert_eq!(Slug::derive(&"ab ".repeat(40)).unwrap().as_str().len(), 62);
    }
}
