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
/// link-local, shared (CGNAT), benchmarking, multicast, unspecified or
/// reserved ranges. IPv6 forms that carry an IPv4 address (mapped,
/// compatible, NAT64, 6to4, Teredo) are judged by that address, since a
/// gateway on the path may turn them into it.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

fn private_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    let embedded =
        |hi: u16, lo: u16| private_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    if let Some(v4) = v6.to_ipv4_mapped() {
        return private_v4(v4);
    }
    // ::ffff:0:0/96, IPv4-translated (SIIT).
    if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
        return embedded(s[6], s[7]);
    }
    // ::/96, IPv4-compatible (deprecated, but still routed by some stacks).
    if s[..6] == [0; 6] {
        return true;
    }
    // 64:ff9b::/96 (NAT64) and 64:ff9b:1::/48 (local-use NAT64).
    if s[0] == 0x64 && s[1] == 0xff9b {
        return s[2] == 1 || embedded(s[6], s[7]);
    }
    // 2002::/16, 6to4: the IPv4 address follows the prefix.
    if s[0] == 0x2002 {
        return embedded(s[1], s[2]);
    }
    // 2001::/32, Teredo: the client's address is stored inverted.
    if s[0] == 0x2001 && s[1] == 0 {
        return embedded(!s[6], !s[7]);
    }
    v6.is_loopback()
        || v6.is_unspecified()
        || v6.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] == 0x0100 && s[1..4] == [0; 3]) // discard-only 100::/64
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
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
            "::127.0.0.1",
            "::ffff:0:7f00:1",
            "::ffff:0:a00:1",
            "::8.8.8.8",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::808:808",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo for 127.0.0.1
            "198.18.0.1",
            "198.19.255.255",
            "fec0::1",
            "2001:db8::1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip} should be private");
        }
        for ip in [
            "8.8.8.8",
            "157.240.1.1",
            "2a03:2880::1",
            "172.32.0.1",
            "198.20.0.1",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo for 8.8.8.8
        ] {
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
