//! Which addresses a pull source may connect to: globally routable ones that are not this
//! server's own, unless the host (or host and port) is listed in `ALLOWED_SOURCE_HOSTS`.
//!
//! "Globally routable" is nex-core's `is_global_ip`, a maintained copy of the standard
//! library's unstable `is_global` that follows the IANA special-purpose registries (private,
//! shared, loopback, link-local, documentation, benchmarking, reserved, 6to4, Teredo, …), so
//! no range list is kept by hand here. On top of it, IPv6 addresses that carry an IPv4 address
//! (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are judged by that address too: the
//! packets may end up there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nex_core::ip::is_global_ip;

/// Whether `ip` is an address of another host on the internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v4_in_disguise(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_global_ip(&ip) && !v6.is_multicast() && embedded_v4(v6).iter().all(|v4| is_public_v4(*v4)),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    // Multicast is no HTTP server; is_global counts its global scope as routable.
    is_global_ip(&IpAddr::V4(ip)) && !ip.is_multicast()
}

/// IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) addresses: IPv4 addresses
/// written as IPv6, connected to as the IPv4 address. `::` and `::1` are themselves.
fn v4_in_disguise(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    match v6.segments() {
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, ..] => v6.to_ipv4(),
        _ => None,
    }
}

/// The IPv4 addresses that translation and tunnelling prefixes carry: NAT64 (`64:ff9b::/96`,
/// `64:ff9b:1::/48`), 6to4 (`2002::/16`) and Teredo (`2001::/32`: server and client).
fn embedded_v4(v6: Ipv6Addr) -> Vec<Ipv4Addr> {
    let bits = u128::from(v6);
    let word = |shift: u32| Ipv4Addr::from((bits >> shift) as u32);
    match v6.segments() {
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => vec![word(0)],
        [0x64, 0xff9b, 1, ..] => vec![word(0)],
        [0x2002, ..] => vec![word(80)],
        [0x2001, 0, ..] => vec![word(64), Ipv4Addr::from(!(bits as u32))],
        _ => Vec::new(),
    }
}

/// This server's own interface addresses, public ones included: a source must not reach a
/// listener of the server itself. Read again after [`Self::FRESH_FOR`], as addresses change.
#[derive(Default)]
pub struct OwnAddresses {
    cached: Mutex<Option<(Instant, Vec<IpAddr>)>>,
}

impl OwnAddresses {
    const FRESH_FOR: Duration = Duration::from_secs(30);

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v4_in_disguise(v6).map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let mut cached = self.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cached.as_ref().is_none_or(|(read_at, _)| read_at.elapsed() > Self::FRESH_FOR) {
            *cached = Some((Instant::now(), interface_addresses()));
        }
        cached.as_ref().is_some_and(|(_, own)| own.contains(&ip))
    }
}

#[cfg(test)]
impl OwnAddresses {
    /// Addresses as if read from the interfaces just now.
    pub fn fixed(addresses: &[&str]) -> Self {
        let addresses = addresses.iter().map(|a| a.parse().unwrap()).collect();
        Self { cached: Mutex::new(Some((Instant::now(), addresses))) }
    }
}

fn interface_addresses() -> Vec<IpAddr> {
    netdev::get_interfaces().iter().flat_map(|interface| interface.ip_addrs()).collect()
}

/// `ALLOWED_SOURCE_HOSTS`: hosts exempt from the address check, each on any port (`host`) or
/// on one (`host:port`, `[v6]:port`).
#[derive(Debug, Default)]
pub struct AllowedHosts(Vec<AllowedHost>);

#[derive(Debug, PartialEq)]
struct AllowedHost {
    host: String,
    port: Option<u16>,
}

/// What the list says of a host and port.
#[derive(Debug, PartialEq, Eq)]
pub enum Listing {
    /// Listed on this port (or on every port): no address check.
    Allowed,
    /// Listed, but only on other ports: refused, since another port of a listed (private) host
    /// is exactly what the list must not open.
    OtherPortsOnly,
    NotListed,
}

impl AllowedHosts {
    pub fn new(entries: &[String]) -> Self {
        Self(entries.iter().map(|entry| parse_entry(entry)).collect())
    }

    pub fn listing(&self, host: &str, port: u16) -> Listing {
        let host = normalize_host(host);
        let mut listed = self.0.iter().filter(|entry| entry.host == host).peekable();
        if listed.peek().is_none() {
            return Listing::NotListed;
        }
        if listed.any(|entry| entry.port.is_none_or(|p| p == port)) {
            Listing::Allowed
        } else {
            Listing::OtherPortsOnly
        }
    }

    /// Whether the host is listed on some port; the resolver (which is not told the port) asks
    /// this, after [`Self::listing`] has refused the other ports.
    pub fn lists(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.0.iter().any(|entry| entry.host == host)
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address (any port).
fn parse_entry(entry: &str) -> AllowedHost {
    let entry = entry.trim();
    let split = match entry.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map(|(host, tail)| (host, tail.strip_prefix(':'))),
        None => match entry.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => Some((host, Some(port))),
            _ => None,
        },
    };
    match split {
        Some((host, port)) => {
            AllowedHost { host: normalize_host(host), port: port.and_then(|p| p.parse().ok()).or(port.map(|_| 0)) }
        }
        None => AllowedHost { host: normalize_host(entry), port: None },
    }
}

/// `[::1]` and `::1`, `Example.COM.` and `example.com` are the same host.
fn normalize_host(host: &str) -> String {
    host.trim().trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_public(ip.parse().unwrap())
    }

    #[test]
    fn special_purpose_ipv4_ranges_are_not_public() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "192.0.0.1",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.254",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!public(ip), "{ip} counted as public");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "172.32.0.1", "198.20.0.1", "203.0.114.1"] {
            assert!(public(ip), "{ip} counted as not public");
        }
    }

    #[test]
    fn special_purpose_ipv6_ranges_are_not_public() {
        for ip in ["::", "::1", "fe80::1", "fd00::1", "fc00::1", "2001:db8::1", "100::1", "ff02::1", "ff0e::1"] {
            assert!(!public(ip), "{ip} counted as public");
        }
        assert!(public("2606:4700:4700::1111"));
    }

    #[test]
    fn ipv6_forms_that_carry_ipv4_are_judged_by_the_ipv4_address() {
        let hidden = [
            "::ffff:127.0.0.1",    // IPv4-mapped
            "::ffff:10.0.0.1",     //
            "::127.0.0.1",         // IPv4-compatible
            "::10.0.0.1",          //
            "64:ff9b::7f00:1",     // NAT64 of 127.0.0.1
            "64:ff9b::c0a8:101",   // NAT64 of 192.168.1.1
            "64:ff9b:1::a00:1",    // local-use NAT64
            "2002:7f00:1::1",      // 6to4 of 127.0.0.1
            "2002:c000:201::1",    // 6to4 of 192.0.2.1
            "2001:0:a00:1::1",     // Teredo, server 10.0.0.1
            "2001:0:5db8:d822::1", // Teredo, public server: still not globally routable
        ];
        for ip in hidden {
            assert!(!public(ip), "{ip} counted as public");
        }
        assert!(public("::ffff:1.1.1.1"), "a mapped public address is that address");
        assert!(public("64:ff9b::101:101"), "NAT64 of 1.1.1.1");
        assert!(!public("64:ff9b::c633:6407"), "NAT64 of 198.51.100.7");
        assert_eq!(embedded_v4("2001:0:5db8:d822:0:f227:3f57:fefe".parse().unwrap())[1], Ipv4Addr::new(192, 168, 1, 1));
        assert_eq!(embedded_v4("2002:c000:201::1".parse().unwrap()), vec![Ipv4Addr::new(192, 0, 2, 1)]);
    }

    #[test]
    fn own_interface_addresses_are_known() {
        let own = OwnAddresses::default();
        assert!(own.contains("127.0.0.1".parse().unwrap()), "the loopback interface is read");
        assert!(own.contains("::ffff:127.0.0.1".parse().unwrap()));
        for ip in interface_addresses() {
            assert!(own.contains(ip), "{ip}");
        }
        assert!(!own.contains("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn hosts_are_listed_on_any_port_or_on_one() {
        let list = AllowedHosts::new(
            &["metrics.internal:8080", "Intranet.Example.", "10.0.4.17:9000", "[::1]:8080", "fd00::5", "[fd00::6]"]
                .map(String::from),
        );
        assert_eq!(list.listing("metrics.internal", 8080), Listing::Allowed);
        assert_eq!(list.listing("METRICS.internal", 22), Listing::OtherPortsOnly);
        assert_eq!(list.listing("intranet.example", 22), Listing::Allowed);
        assert_eq!(list.listing("10.0.4.17", 9000), Listing::Allowed);
        assert_eq!(list.listing("10.0.4.17", 80), Listing::OtherPortsOnly);
        assert_eq!(list.listing("::1", 8080), Listing::Allowed);
        assert_eq!(list.listing("[::1]", 8081), Listing::OtherPortsOnly);
        assert_eq!(list.listing("fd00::5", 1), Listing::Allowed);
        assert_eq!(list.listing("fd00::6", 1), Listing::Allowed);
        assert_eq!(list.listing("example.com", 80), Listing::NotListed);
        assert!(list.lists("metrics.internal") && !list.lists("example.com"));
    }

    #[test]
    fn an_entry_with_a_bad_port_opens_no_port() {
        let list = AllowedHosts::new(&["metrics.internal:http".into()]);
        assert_eq!(list.listing("metrics.internal", 80), Listing::OtherPortsOnly);
    }
}
