//! An image widget's `url`, and the hosts images may come from (`IMAGE_HOSTS`, see README.md).

use url::Url;

/// The longest `url` an image value may have: a small `data:` image fits, a photo does not.
pub const MAX_IMAGE_URL: usize = 16 * 1024;

const URL_MESSAGE: &str = "must be an https or http URL, or a data:image/… URL";

/// Where an image value's picture comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// Inline, allowed everywhere.
    Data,
    /// Fetched by the browser from this host, which must be listed in `IMAGE_HOSTS`.
    Remote { host: String },
}

impl ImageSource {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > MAX_IMAGE_URL {
            return Err(format!("is {} bytes; at most {MAX_IMAGE_URL} are allowed", raw.len()));
        }
        if raw.get(..11).is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:image/")) {
            return Ok(Self::Data);
        }
        let url = Url::parse(raw).map_err(|_| URL_MESSAGE.to_string())?;
        match (url.scheme(), url.host_str()) {
            ("https" | "http", Some(host)) if url.username().is_empty() && url.password().is_none() => {
                Ok(Self::Remote { host: host.to_ascii_lowercase() })
            }
            _ => Err(URL_MESSAGE.into()),
        }
    }
}

/// The hosts image widgets may load from; empty: only `data:` images.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageHosts(Vec<String>);

impl ImageHosts {
    /// A comma-separated list of host names (`cdn.example.com, grafana.internal`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut hosts = Vec::new();
        for host in raw.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            let valid = host.len() <= 253
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                && !host.starts_with(['.', '-']);
            if !valid {
                return Err(format!(
                    "{host:?} is not a host name (give names like cdn.example.com, no scheme or path)"
                ));
            }
            hosts.push(host.to_ascii_lowercase());
        }
        Ok(Self(hosts))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether a value's `url` may be shown: a `data:` image, or one from a listed host.
    pub fn check(&self, source: &ImageSource) -> Result<(), String> {
        match source {
            ImageSource::Data => Ok(()),
            ImageSource::Remote { host } if self.0.contains(host) => Ok(()),
            ImageSource::Remote { host } if self.0.is_empty() => {
                Err(format!("host {host} is not allowed: IMAGE_HOSTS is empty, so only data: images are"))
            }
            ImageSource::Remote { host } => {
                Err(format!("host {host} is not allowed; IMAGE_HOSTS allows {}", self.0.join(", ")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_by_scheme() {
        assert_eq!(ImageSource::parse("data:image/png;base64,AAAA"), Ok(ImageSource::Data));
        assert_eq!(
            ImageSource::parse("https://CDN.example.com/a.png"),
            Ok(ImageSource::Remote { host: "cdn.example.com".into() })
        );
        for bad in ["javascript:alert(1)", "data:text/html,<b>", "ftp://x/a.png", "https://u:p@x/a", "/a.png", ""] {
            assert!(ImageSource::parse(bad).is_err(), "{bad}");
        }
        let at_limit = format!("data:image/png;base64,{}", "A".repeat(MAX_IMAGE_URL - 22));
        assert!(ImageSource::parse(&at_limit).is_ok());
        assert!(ImageSource::parse(&format!("{at_limit}A")).unwrap_err().contains("bytes"));
    }

    #[test]
    fn hosts_are_listed_names() {
        let hosts = ImageHosts::parse(" cdn.example.com, Grafana.internal ,").unwrap();
        assert_eq!(hosts.as_slice(), ["cdn.example.com", "grafana.internal"]);
        assert!(hosts.check(&ImageSource::Remote { host: "grafana.internal".into() }).is_ok());
        let refused = hosts.check(&ImageSource::Remote { host: "evil.example".into() }).unwrap_err();
        assert!(refused.contains("evil.example"), "{refused}");
        assert!(ImageHosts::default().check(&ImageSource::Data).is_ok());
        assert!(ImageHosts::parse("https://cdn.example.com").is_err());
        assert!(ImageHosts::parse("a b").is_err());
    }
}
