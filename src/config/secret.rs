use std::fmt;

/// A value that must never reach a log line or a debug page: `Debug` shows it redacted.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains("://") { f.write_str(&redact_url(&self.0)) } else { f.write_str("[redacted]") }
    }
}

/// The URL with its password (if any) replaced, for logs: `postgres://user:***@host/db`. A
/// password given as a query parameter (`?password=…`, which PostgreSQL URLs accept) too.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else { return "[unparseable url]".into() };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(key, _)| is_secret_parameter(&key)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if is_secret_parameter(&key) { "***".into() } else { value.into_owned() };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

fn is_secret_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "passwd", "pwd", "secret", "token"].iter().any(|word| key.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(
            redact_url("postgres://app@db/x?sslmode=require&password=s3cret&sslpassword=k3y"),
            "postgres://app@db/x?sslmode=require&password=***&sslpassword=***"
        );
        assert_eq!(format!("{:?}", Secret::new("abc")), "[redacted]");
    }
}
