use std::collections::HashMap;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {name} is required but not set")]
    Missing { name: &'static str },
    #[error("configuration: {name}={value:?} is invalid (expected {expected})")]
    Invalid { name: &'static str, value: String, expected: &'static str },
    #[error("configuration: cannot read env file: {0}")]
    EnvFile(String),
}

impl ConfigError {
    pub fn missing(name: &'static str) -> Self {
        Self::Missing { name }
    }

    /// For checks that do not quote the value (it may be a secret).
    pub fn invalid(name: &'static str, expected: &'static str) -> Self {
        Self::Invalid { name, value: "…".into(), expected }
    }
}

/// A snapshot of environment variables; empty values count as unset.
pub struct EnvSource(HashMap<String, String>);

impl EnvSource {
    pub fn process() -> Self {
        Self(std::env::vars().collect())
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError::missing(name))
    }

    pub fn parse_or<T: FromStr>(
        &self,
        name: &'static str,
        expected: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        self.parse_or_else(name, expected, |raw| raw.parse().ok(), || default)
    }

    pub fn parse_or_else<T>(
        &self,
        name: &'static str,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
        default: impl FnOnce() -> T,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default()),
            Some(raw) => parse(&raw).ok_or(ConfigError::Invalid { name, value: raw, expected }),
        }
    }

    /// A whole number ≥ 1.
    pub fn positive_or<T: FromStr + PartialOrd + From<u8>>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        self.parse_or_else(
            name,
            "a whole number of at least 1",
            |raw| raw.parse().ok().filter(|n: &T| *n >= T::from(1)),
            || default,
        )
    }

    pub fn bool_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        self.parse_or_else(
            name,
            "true or false",
            |raw| match raw.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => None,
            },
            || default,
        )
    }

    /// A comma-separated list; empty items are dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|raw| raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    }
}
