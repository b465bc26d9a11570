//! Refusing outbound calls to private networks.
//!
//! A tenant chooses where webhooks and callbacks go. Without a guard, a URL
//! such as `http://127.0.0.1:5432/` or `http://169.254.169.254/` would make
//! the server call its own network on the tenant's behalf (SSRF). So, unless
//! the operator allows it (`--outbound-allow-private`, for local setups and
//! tests), a destination must resolve to public addresses only. The check
//! runs where the connection is made (a DNS resolver that drops private
//! answers), so a name that resolves differently later (DNS rebinding) is
//! caught too; literal IP addresses, which skip DNS, are checked from the URL.
//! Redirects are not followed: a 3xx counts as a failed attempt.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is on a network a tenant must not reach: loopback, private,
/// link-local, shared (CGNAT), multicast, unspecified or reserved ranges.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return private_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || v6 == Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0) // NAT64 prefix base
        }
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || a >= 240 // reserved
}

/// Checks a destination URL before any call: scheme and host, and a literal
/// IP address against [`is_private`]. Names are checked when resolved.
pub fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the URL must start with http:// or https://".into());
    }
    let host = match parsed.host() {
        Some(host) => host,
        None => return Err("the URL has no host".into()),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL must not carry a user name or password".into());
    }
    if allow_private {
        return Ok(parsed);
    }
    let literal = match host {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
        url::Host::Domain(_) => None,
    };
    match literal {
        Some(ip) if is_private(ip) => Err(format!(
            "{ip} is a private or loopback address; outbound calls there are not allowed"
        )),
        _ => Ok(parsed),
    }
}

/// The DNS resolver of outbound calls: the system's, minus private answers.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || !is_private(a.ip()))
                .collect();
            if allowed.is_empty() {
                let why = if found.is_empty() {
                    format!("{host} has no address")
                } else {
                    format!("{host} resolves only to private or loopback addresses")
                };
                return Err(why.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_refused_and_public_ones_pass() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip} should be private");
        }
        for ip in ["8.8.8.8", "157.240.1.1", "2a03:2880::1", "172.32.0.1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip} should be public");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_credentials_and_literal_addresses() {
        assert!(check_url("https://hooks.example.com/x", false).is_ok());
        assert!(check_url("ftp://hooks.example.com/x", false).is_err());
        assert!(check_url("http://user:pw@hooks.example.com/", false).is_err());
        assert!(check_url("http://127.0.0.1:8080/", false).is_err());
        assert!(check_url("http://localhost/", false).is_err());
        assert!(check_url("http://[::1]/", false).is_err());
        assert!(check_url("http://10.0.0.5/", false).is_err());
        assert!(check_url("http://127.0.0.1:8080/", true).is_ok());
        assert!(check_url("not a url", true).is_err());
    }
}
