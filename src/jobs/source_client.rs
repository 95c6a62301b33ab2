//! The HTTP client of pull sources: GETs JSON from URLs that users configure, so it must not be
//! a way into the private network the server sits in.
//!
//! Addresses (see [`super::source_guard`] for which) are checked after DNS resolution, by the
//! client's own resolver (a name that resolves to refused addresses is refused; only allowed
//! addresses are connected to, so a DNS answer cannot switch between check and connect).
//! Literal IP addresses never reach a resolver, so they are checked before the request and on
//! every redirect, as are ports of hosts listed with one. Hosts listed in `ALLOWED_SOURCE_HOSTS`
//! skip the check. No proxy is used: a proxy would resolve names itself.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::redirect;
use serde_json::Value as Json;
use url::{Host, Url};

use super::source_guard::{AllowedHosts, Listing, OwnAddresses, is_public};

pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MAX_REDIRECTS: usize = 3;

/// Why a fetch failed. The text (the detail) names the host but never the whole URL, which may
/// carry a key in its query; only management views show it. Everyone else sees [`Self::class`],
/// which does not tell a closed port from a filtered one or a 404 from a 403.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("refused: {0} is not a public address of another host (list it in ALLOWED_SOURCE_HOSTS to allow it)")]
    Refused(String),
    #[error("the source answered HTTP {0}")]
    Status(u16),
    #[error("no answer within {} s", TIMEOUT.as_secs())]
    Timeout,
    #[error("the response is larger than {} KiB", MAX_BODY_BYTES / 1024)]
    TooLarge,
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("the response is not JSON ({0})")]
    NotJson(String),
    #[error("cannot fetch from {host}: {reason}")]
    Unreachable { host: String, reason: String },
}

impl SourceError {
    /// What the public may know of the failure.
    pub fn class(&self) -> String {
        match self {
            Self::Refused(_) => "refused address".into(),
            Self::Status(status) => format!("HTTP {}xx", status / 100),
            Self::Timeout => "timeout".into(),
            Self::TooLarge => "too large".into(),
            Self::TooManyRedirects => "too many redirects".into(),
            Self::NotJson(_) => "not JSON".into(),
            Self::Unreachable { .. } => "unreachable".into(),
        }
    }
}

/// The error the resolver and the redirect policy raise inside reqwest, found again in its
/// error chain to become [`SourceError::Refused`] or [`SourceError::TooManyRedirects`].
#[derive(Debug, Clone)]
enum Refusal {
    Refused(String),
    TooManyRedirects,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(host) => write!(f, "{host} is not a public address"),
            Self::TooManyRedirects => f.write_str("too many redirects"),
        }
    }
}

impl StdError for Refusal {}

impl From<Refusal> for SourceError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Refused(host) => Self::Refused(host),
            Refusal::TooManyRedirects => Self::TooManyRedirects,
        }
    }
}

/// The address rules of every request and redirect hop.
struct Guard {
    allowed: AllowedHosts,
    own: OwnAddresses,
}

impl Guard {
    /// Whether a connection may go to `ip`, found for a host that is not listed.
    fn may_connect(&self, ip: IpAddr) -> bool {
        is_public(ip) && !self.own.contains(ip)
    }

    /// Checks a URL before it is requested (also each redirect's target). Names are checked
    /// again by the resolver once resolved; it is not told the port, hence the port check here.
    fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        let port = url.port_or_known_default().unwrap_or(0);
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(name)) => {
                return match self.allowed.listing(name, port) {
                    Listing::OtherPortsOnly => Err(Refusal::Refused(format!("{name}:{port}"))),
                    Listing::Allowed | Listing::NotListed => Ok(()),
                };
            }
            None => return Err(Refusal::Refused("a URL without a host".into())),
        };
        match self.allowed.listing(&ip.to_string(), port) {
            Listing::Allowed => Ok(()),
            Listing::NotListed if self.may_connect(ip) => Ok(()),
            Listing::NotListed => Err(Refusal::Refused(ip.to_string())),
            Listing::OtherPortsOnly => Err(Refusal::Refused(SocketAddr::new(ip, port).to_string())),
        }
    }
}

/// Resolves with the system resolver and keeps only addresses the client may connect to.
struct GuardedResolver {
    guard: Arc<Guard>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let guard = self.guard.clone();
        Box::pin(async move {
            let allow_any = guard.allowed.lists(&host);
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> =
                resolved.into_iter().filter(|a| allow_any || guard.may_connect(a.ip())).collect();
            if usable.is_empty() {
                return Err(Box::new(Refusal::Refused(host)) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

/// The shared, guarded client; cheap to clone.
#[derive(Clone)]
pub struct SourceClient {
    http: reqwest::Client,
    guard: Arc<Guard>,
}

impl SourceClient {
    pub fn new(allowed_hosts: &[String]) -> Self {
        let guard = Arc::new(Guard { allowed: AllowedHosts::new(allowed_hosts), own: OwnAddresses::default() });
        let policy_guard = guard.clone();
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(Refusal::TooManyRedirects);
            }
            match policy_guard.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        });
        crate::tls::use_ring();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(policy)
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { guard: guard.clone() }))
            .user_agent(concat!("dashboard/", env!("CARGO_PKG_VERSION"), " (pull source)"))
            .build()
            .expect("a client with these settings always builds");
        Self { http, guard }
    }

    /// GETs `url` with the source's own `headers` (they replace the defaults of the same name)
    /// and parses the body as JSON, within the time, size and address limits.
    pub async fn fetch_json(&self, url: &Url, headers: HeaderMap) -> Result<Json, SourceError> {
        self.guard.check_url(url)?;
        let mut all = HeaderMap::from_iter([(ACCEPT, HeaderValue::from_static("application/json"))]);
        all.extend(headers);
        let mut response = self.http.get(url.clone()).headers(all).send().await.map_err(|e| source_error(url, e))?;
        if !response.status().is_success() {
            return Err(SourceError::Status(response.status().as_u16()));
        }
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(SourceError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| source_error(url, e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(SourceError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| SourceError::NotJson(e.to_string()))
    }
}

/// Turns a failed request into what the widget shows, finding the guard's verdict if there is one.
fn source_error(url: &Url, error: reqwest::Error) -> SourceError {
    // reqwest names the whole URL in its message, and the URL may carry a key in its query.
    let error = error.without_url();
    let mut cause: Option<&(dyn StdError + 'static)> = Some(&error);
    let mut innermost = error.to_string();
    while let Some(current) = cause {
        if let Some(refusal) = current.downcast_ref::<Refusal>() {
            return refusal.clone().into();
        }
        innermost = current.to_string();
        cause = current.source();
    }
    if error.is_timeout() {
        return SourceError::Timeout;
    }
    SourceError::Unreachable { host: url.host_str().unwrap_or_default().to_string(), reason: innermost }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allowed: &[&str]) -> Guard {
        Guard {
            allowed: AllowedHosts::new(&allowed.iter().map(|h| h.to_string()).collect::<Vec<_>>()),
            own: OwnAddresses::default(),
        }
    }

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn literal_addresses_are_checked_unless_allowed() {
        let none = guard(&[]);
        assert!(none.check_url(&url("http://127.0.0.1:8080/x")).is_err());
        assert!(none.check_url(&url("http://[::1]/x")).is_err());
        assert!(none.check_url(&url("http://[64:ff9b::7f00:1]/x")).is_err());
        assert!(none.check_url(&url("http://198.51.100.7/x")).is_err());
        assert!(none.check_url(&url("http://93.184.216.34/x")).is_ok());
        assert!(none.check_url(&url("http://example.com/x")).is_ok(), "names are checked after resolution");
        let some = guard(&["127.0.0.1", "[::1]", "Intranet.Example."]);
        assert!(some.check_url(&url("http://127.0.0.1:8080/x")).is_ok());
        assert!(some.check_url(&url("http://[::1]/x")).is_ok());
        assert!(some.allowed.lists("intranet.example"));
    }

    #[test]
    fn the_servers_own_public_address_is_refused_directly_and_when_resolved() {
        // 93.184.216.34 stands for a public address of one of the server's interfaces.
        let own =
            Guard { allowed: AllowedHosts::default(), own: OwnAddresses::fixed(&["93.184.216.34", "2606:2800::1"]) };
        for ip in ["93.184.216.34", "[2606:2800::1]", "[::ffff:93.184.216.34]"] {
            // Redirect targets go through the same check.
            assert!(own.check_url(&url(&format!("http://{ip}:8080/x"))).is_err(), "{ip}");
        }
        assert!(!own.may_connect("93.184.216.34".parse().unwrap()), "names resolved to it are refused too");
        assert!(own.may_connect("93.184.216.35".parse().unwrap()));
    }

    #[test]
    fn a_host_listed_with_a_port_is_refused_on_its_other_ports() {
        let list = guard(&["127.0.0.1:8080", "metrics.internal:9100", "[::1]:8080"]);
        assert!(list.check_url(&url("http://127.0.0.1:8080/x")).is_ok());
        assert!(list.check_url(&url("http://127.0.0.1:22/x")).is_err());
        assert!(list.check_url(&url("http://127.0.0.1/x")).is_err(), "port 80 is not 8080");
        assert!(list.check_url(&url("http://[::1]:8080/x")).is_ok());
        assert!(list.check_url(&url("http://[::1]:8081/x")).is_err());
        assert!(list.check_url(&url("http://metrics.internal:9100/x")).is_ok());
        assert!(list.check_url(&url("https://metrics.internal/x")).is_err(), "443 is not 9100");
    }

    #[test]
    fn error_classes_hide_the_detail() {
        let unreachable = SourceError::Unreachable { host: "h".into(), reason: "connection refused".into() };
        assert_eq!(unreachable.class(), "unreachable");
        assert_eq!(SourceError::Status(404).class(), "HTTP 4xx");
        assert_eq!(SourceError::Status(503).class(), "HTTP 5xx");
        assert_eq!(SourceError::Refused("10.0.0.1".into()).class(), "refused address");
    }
}
