//! Who a request comes from: the TCP peer, or, when the peer is a proxy we
//! trust, the address that proxy says it forwarded.
//!
//! `X-Forwarded-For` is written by whoever sends the request, so it is
//! believed only from trusted proxies, and only as far as they vouch for it:
//! each proxy appends the address it received the request from, so reading
//! from the right, the first address that is not itself a trusted proxy is
//! the one the last of our proxies saw. Everything to its left came from the
//! client and may be anything.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::http::error::ApiError;

/// The address of the client a request comes from, for limits and
/// throttling: the TCP peer, or behind a trusted proxy the client it
/// forwarded (see the module's documentation). Every request that went
/// through [`super::serve`] carries one; take it as an extractor or read it
/// from the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    pub fn ip(self) -> IpAddr {
        self.0
    }

    /// The client of a request with `headers` received from `peer`: `peer`
    /// itself unless it is one of `trusted`; then the right-most address of
    /// `X-Forwarded-For` that is not one of `trusted`. Should the header run
    /// out, or hold something that is not an address, before such an address
    /// is found, the client is the last trusted proxy read: nobody we trust
    /// vouches for anything further.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> ClientAddr {
        let mut client = peer.to_canonical();
        if !trusted.contains(client) {
            return ClientAddr(client);
        }
        // Several header lines are one list, in order.
        for line in headers.get_all("x-forwarded-for").iter().rev() {
            let Ok(line) = line.to_str() else {
                return ClientAddr(client);
            };
            for hop in line.rsplit(',') {
                let Some(ip) = parse_hop(hop.trim()) else {
                    return ClientAddr(client);
                };
                client = ip;
                if !trusted.contains(ip) {
                    return ClientAddr(client);
                }
            }
        }
        ClientAddr(client)
    }
}

/// One `X-Forwarded-For` entry: an address, some proxies adding a port
/// (`192.0.2.7:51000`, `[2001:db8::7]:51000`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|a| a.ip()))
        .ok()?;
    Some(ip.to_canonical())
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .ok_or_else(|| {
                ApiError::internal("a request without a client address: it bypassed the edge")
            })
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> TrustedProxies {
        TrustedProxies(nets.into_iter().collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of them (an IPv4 address mapped into IPv6, as a
    /// dual-stack listener reports it, counts as the IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// A trusted proxy as written on the command line: an address
/// (`10.0.0.7`, `::1`) or a network (`10.0.0.0/8`, `fd00::/8`).
pub fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| {
            text.parse::<IpAddr>()
                .map(|ip| IpNet::from(ip.to_canonical()))
        })
        .map_err(|_| format!("{text:?} is not an address or a network like 10.0.0.0/8"))
}
