//! The address guard: a URL that someone else chose (anything given to `/feed?url=`, every
//! link inside a feed) must not make refeed fetch from the machine itself or the private
//! network around it (SSRF). Only the feed URLs of the config are trusted.
//!
//! The check runs where the address is finally known: on every address a host name resolves
//! to (a resolver plugged into the HTTP client, so redirect hops and DNS answers that change
//! between two lookups are covered too) and on every IP literal in a URL, the first one and
//! each redirect target. Proxies are turned off for a guarded client: a proxy would resolve
//! names where we cannot see them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use url::{Host, Url};

/// Ends every refusal message (and tells a refusal apart from other fetch errors, which
/// reach callers as text when they happen inside the HTTP client's resolver).
pub const REFUSED: &str =
    "refeed does not fetch private or local addresses for links it did not get from you (settings.allow_private_hosts)";

/// Why an address is refused, or `None` for a public unicast address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified (\"this network\") address",
        (127, _, _) => "loopback address",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "private address",
        (169, 254, _) => "link-local address",
        (100, 64..=127, _) => "shared (carrier-grade NAT) address",
        (192, 0, 0) => "IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation address",
        (198, 18..=19, _) => "benchmarking address",
        (224..=239, _, _) => "multicast address",
        (240..=255, _, _) => "reserved or broadcast address",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    // Addresses that carry an IPv4 address are judged by it: v4-mapped ::ffff:a.b.c.d,
    // the old v4-compatible ::a.b.c.d, NAT64 64:ff9b::/96 and 6to4 2002::/16.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    if seg[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_unspecified() && !ip.is_loopback() {
        return forbidden_v4(Ipv4Addr::from(((seg[6] as u32) << 16) | seg[7] as u32));
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(Ipv4Addr::from(((seg[6] as u32) << 16) | seg[7] as u32));
    }
    if seg[0] == 0x2002 {
        return forbidden_v4(Ipv4Addr::from(((seg[1] as u32) << 16) | seg[2] as u32));
    }
    Some(match seg[0] {
        _ if ip.is_unspecified() => "unspecified address",
        _ if ip.is_loopback() => "loopback address",
        0xfc00..=0xfdff => "private (unique local) address",
        0xfe80..=0xfebf => "link-local address",
        0xfec0..=0xfeff => "site-local address",
        0xff00..=0xffff => "multicast address",
        0x2001 if seg[1] == 0 => "Teredo tunnel address",
        0x2001 if seg[1] == 0x0db8 => "documentation address",
        0x0100 if seg[1..4] == [0, 0, 0] => "discard-only address",
        _ => return None,
    })
}

/// What a guarded request refuses to fetch, with the user's exceptions: `(host, port)` pairs
/// that may be private all the same (port `None`: any port of that host).
#[derive(Debug, Default, Clone)]
pub struct Guard {
    allowed: Vec<(String, Option<u16>)>,
    /// Requests checked by this guard and its clones (every redirect hop counts): what a
    /// `/feed?url=` build cost its origin.
    checked: Arc<std::sync::atomic::AtomicU64>,
}

impl Guard {
    /// `allowed` holds `host` or `host:port` entries (`allow_private_hosts`).
    pub fn new(allowed: &[String]) -> Guard {
        Guard::default().with_entries(allowed)
    }

    /// This guard with more `host` or `host:port` entries.
    pub fn with_entries(mut self, entries: &[String]) -> Guard {
        for entry in entries {
            let Ok(url) = Url::parse(&format!("http://{entry}/")) else { continue };
            let Some(host) = url.host_str().map(str::to_ascii_lowercase) else { continue };
            let has_port =
                entry.rsplit_once(':').is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            // "host:80" parses to no explicit port.
            let port = has_port.then(|| url.port().unwrap_or(80));
            self.allowed.push((host, port));
        }
        self
    }

    /// This guard, also allowing the host and port of `url` (the origin of a feed the user
    /// configured: its own articles may live on the same private host).
    pub fn with_origin(mut self, url: &Url) -> Guard {
        if let Some(host) = url.host_str() {
            self.allowed.push((host.to_ascii_lowercase(), url.port_or_known_default()));
        }
        self
    }

    /// Every entry of `self` and `other` (what the resolver of a shared client lets through).
    pub fn union(mut self, other: &Guard) -> Guard {
        self.allowed.extend(other.allowed.iter().cloned());
        self
    }

    /// Requests this guard (or a clone of it) has checked so far.
    pub fn requests_checked(&self) -> u64 {
        self.checked.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// True when `host` on `port` is an exception: host and port must both match.
    pub fn allows(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        self.allowed.iter().any(|(h, p)| *h == host && (p.is_none() || *p == port))
    }

    /// True when some port of `host` is an exception (the resolver sees no port).
    fn allows_name(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.allowed.iter().any(|(h, _)| *h == host)
    }

    /// Checks what can be checked before a connection: the scheme, and an IP literal host.
    /// Host names are checked by the resolver, when their addresses are known.
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{url}: only http and https URLs are fetched"));
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(_)) => return Ok(()),
            None => return Err(format!("{url}: no host")),
        };
        let host = url.host_str().unwrap_or_default();
        match forbidden(ip) {
            Some(why) if !self.allows(host, url.port_or_known_default()) => Err(format!("{ip} is a {why}; {REFUSED}")),
            _ => Ok(()),
        }
    }

    /// The full check of one request (the first URL and every redirect hop) made through a
    /// client whose resolver lets `shared`'s names through: a name that `shared` excepts on
    /// some port but this request's guard does not except on this port is resolved here and
    /// refused when private. Other names are left to the resolver.
    pub async fn check_request(&self, url: &Url, shared: &Guard) -> Result<(), String> {
        self.checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.check_url(url)?;
        let Some(Host::Domain(name)) = url.host() else { return Ok(()) };
        let port = url.port_or_known_default();
        if !shared.allows_name(name) || self.allows(name, port) {
            return Ok(());
        }
        let addrs = tokio::net::lookup_host((name, port.unwrap_or(80))).await.map_err(|e| format!("{name}: {e}"))?;
        for addr in addrs {
            if let Some(why) = forbidden(addr.ip()) {
                return Err(format!("{name} resolves to {} (a {why}); {REFUSED}", addr.ip()));
            }
        }
        Ok(())
    }
}

/// Names under `.invalid`, which RFC 6761 (6.4) reserves so that they never resolve: answered
/// at once, without asking a DNS server that may be slow to say no.
fn never_resolves(name: &str) -> bool {
    let name = name.trim_end_matches('.').as_bytes();
    let Some(start) = name.len().checked_sub(7) else { return false };
    name[start..].eq_ignore_ascii_case(b"invalid") && (start == 0 || name[start - 1] == b'.')
}

/// A refusal by the guarded resolver, recognised by its type when it comes back wrapped in
/// the HTTP client's error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// DNS resolution that refuses a name when any of its addresses is forbidden (a name that
/// resolves to a public and a private address is refused: the client could pick either).
///
/// Every client uses it (the trusted one with no guard), so that a name that cannot be
/// resolved comes back as a [`DnsError`], told apart by its type.
pub(crate) struct Resolver {
    pub guard: Option<Arc<Guard>>,
}

/// A host name that could not be resolved.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DnsError(pub String);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.guard.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let dns = |why: String| Box::new(DnsError(why)) as Box<dyn std::error::Error + Send + Sync>;
            if never_resolves(&name) {
                return Err(dns(format!("{name}: the name could not be resolved: .invalid names never resolve")));
            }
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|e| dns(format!("{name}: the name could not be resolved: {e}")))?
                .collect();
            if addrs.is_empty() {
                return Err(dns(format!("{name}: no address found")));
            }
            if guard.is_some_and(|g| !g.allows_name(&name)) {
                for addr in &addrs {
                    if let Some(why) = forbidden(addr.ip()) {
                        let why = format!("{name} resolves to {} (a {why}); {REFUSED}", addr.ip());
                        return Err(Box::new(Refusal(why)) as Box<dyn std::error::Error + Send + Sync>);
                    }
                }
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn invalid_names_never_resolve() {
        for name in ["invalid", "x.invalid", "a.b.INVALID", "x.invalid."] {
            assert!(never_resolves(name), "{name}");
        }
        for name in ["notinvalid", "invalid.example", "x.invalids", "example.org", "ü.xinvalid", "é"] {
            assert!(!never_resolves(name), "{name}");
        }
    }

    #[test]
    fn local_and_private_addresses_are_refused() {
        for bad in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.5",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(forbidden(ip(bad)).is_some(), "{bad} must be refused");
        }
        for good in ["93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert_eq!(forbidden(ip(good)), None, "{good} is public");
        }
        assert_eq!(forbidden(ip("169.254.169.254")), Some("link-local address"));
    }

    #[test]
    fn ip_literals_in_urls_are_checked_with_exceptions_by_host_and_port() {
        let guard = Guard::new(&["127.0.0.1:8081".into(), "intranet.local".into(), "localhost:8081".into()]);
        let check = |u: &str| guard.check_url(&Url::parse(u).unwrap());
        assert!(check("http://127.0.0.1:8081/feed.xml").is_ok());
        let e = check("http://127.0.0.1:8082/feed.xml").unwrap_err();
        assert_eq!(e, format!("127.0.0.1 is a loopback address; {REFUSED}"));
        assert!(check("http://[::1]/").is_err());
        assert!(check("http://2130706433/").is_err(), "decimal 127.0.0.1");
        assert!(check("http://0x7f.1/").is_err(), "hex 127.0.0.1");
        assert!(check("http://example.com/").is_ok(), "names are checked when resolved");
        assert!(check("ftp://example.com/").is_err());
        assert!(guard.allows("INTRANET.local", Some(8000)));
        assert!(guard.allows("localhost", Some(8081)));
        assert!(!guard.allows("localhost", Some(8082)), "an exception names a port: no other port");
        assert!(!guard.allows("localhost", Some(80)));
    }
}
