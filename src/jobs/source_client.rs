//! The HTTP client of pull sources: GETs JSON from URLs that users configure, so it must not be
//! a way into the private network the server sits in.
//!
//! Addresses are checked after DNS resolution, by the client's own resolver (a name that
//! resolves to private addresses is refused; only public addresses are connected to, so a DNS
//! answer cannot switch to a private one between check and connect). Literal IP addresses never
//! reach a resolver, so they are checked before the request and on every redirect. Hosts listed
//! in `ALLOWED_SOURCE_HOSTS` skip the check. No proxy is used: a proxy would resolve names itself.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use serde_json::Value as Json;
use url::{Host, Url};

pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MAX_REDIRECTS: usize = 3;

/// Why a fetch failed; the text is shown on the widget, so it names the host but never the
/// whole URL (which may carry a key in its query).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "refused: {0} is a private, loopback or link-local address (list the host in ALLOWED_SOURCE_HOSTS to allow it)"
    )]
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

/// The error the resolver and the redirect policy raise inside reqwest, found again in its
/// error chain to become [`SourceError::Refused`] or [`SourceError::TooManyRedirects`].
#[derive(Debug, Clone)]
enum Guard {
    Refused(String),
    TooManyRedirects,
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(host) => write!(f, "{host} is not a public address"),
            Self::TooManyRedirects => f.write_str("too many redirects"),
        }
    }
}

impl StdError for Guard {}

impl From<Guard> for SourceError {
    fn from(guard: Guard) -> Self {
        match guard {
            Guard::Refused(host) => Self::Refused(host),
            Guard::TooManyRedirects => Self::TooManyRedirects,
        }
    }
}

/// Hosts exempt from the address check, lower-case.
#[derive(Debug, Default)]
struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    fn new(hosts: &[String]) -> Self {
        Self(hosts.iter().map(|h| normalize_host(h)).collect())
    }

    fn contains(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.0.contains(&host)
    }

    /// Checks a URL before it is requested (also each redirect's target).
    fn check_url(&self, url: &Url) -> Result<(), Guard> {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            // Names are checked by the resolver once they are resolved.
            Some(Host::Domain(_)) => return Ok(()),
            None => return Err(Guard::Refused("a URL without a host".into())),
        };
        if is_public(ip) || self.contains(&ip.to_string()) { Ok(()) } else { Err(Guard::Refused(ip.to_string())) }
    }
}

/// `[::1]` and `::1`, `Example.COM.` and `example.com` are the same host.
fn normalize_host(host: &str) -> String {
    host.trim().trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

/// Whether a connection to `ip` leaves the machine's private networks.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    let this_network = a == 0;
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || shared
        || this_network)
}

/// Resolves with the system resolver and keeps only addresses the client may connect to.
struct GuardedResolver {
    allowed: Arc<AllowedHosts>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let allow_any = self.allowed.contains(&host);
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = resolved.into_iter().filter(|a| allow_any || is_public(a.ip())).collect();
            if usable.is_empty() {
                return Err(Box::new(Guard::Refused(host)) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

/// The shared, guarded client; cheap to clone.
#[derive(Clone)]
pub struct SourceClient {
    http: reqwest::Client,
    allowed: Arc<AllowedHosts>,
}

impl SourceClient {
    pub fn new(allowed_hosts: &[String]) -> Self {
        let allowed = Arc::new(AllowedHosts::new(allowed_hosts));
        let policy_hosts = allowed.clone();
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(Guard::TooManyRedirects);
            }
            match policy_hosts.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        });
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(policy)
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allowed: allowed.clone() }))
            .user_agent(concat!("dashboard/", env!("CARGO_PKG_VERSION"), " (pull source)"))
            .build()
            .expect("a client with these settings always builds");
        Self { http, allowed }
    }

    /// GETs `url` and parses the body as JSON, within the time, size and address limits.
    pub async fn fetch_json(&self, url: &Url) -> Result<Json, SourceError> {
        self.allowed.check_url(url)?;
        let mut response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| source_error(url, e))?;
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
        if let Some(guard) = current.downcast_ref::<Guard>() {
            return guard.clone().into();
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

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "172.32.0.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
        }
    }

    #[test]
    fn literal_addresses_are_checked_unless_allowed() {
        let none = AllowedHosts::new(&[]);
        let url = |u: &str| Url::parse(u).unwrap();
        assert!(none.check_url(&url("http://127.0.0.1:8080/x")).is_err());
        assert!(none.check_url(&url("http://[::1]/x")).is_err());
        assert!(none.check_url(&url("http://93.184.216.34/x")).is_ok());
        assert!(none.check_url(&url("http://example.com/x")).is_ok(), "names are checked after resolution");
        let some = AllowedHosts::new(&["127.0.0.1".into(), "[::1]".into(), "Intranet.Example.".into()]);
        assert!(some.check_url(&url("http://127.0.0.1:8080/x")).is_ok());
        assert!(some.check_url(&url("http://[::1]/x")).is_ok());
        assert!(some.contains("intranet.example"));
    }
}
