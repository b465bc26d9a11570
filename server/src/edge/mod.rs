//! The network edge: accepting TCP connections and speaking HTTP/1.1 on
//! them, with the limits that keep slow and flooding clients from taking
//! what everyone shares.
//!
//! `axum::serve` has none of them: no deadline for a request's head (50
//! connections that never finish theirs kept it from stopping for good),
//! no cap per address, and a graceful shutdown that waits for every
//! connection however long it idles. So the server runs its own accept loop
//! ([`serve`]) over hyper's HTTP/1.1 connections, after tokio-rs/mini-redis'
//! listener: each connection is a task that watches a shutdown token; on
//! shutdown the loop stops accepting, every connection is asked to finish
//! (idle ones close at once, requests in flight finish) and whatever is
//! still open at [`EdgeConfig::shutdown_timeout`] is dropped.
//!
//! The limits, each an [`EdgeConfig`] field and a `switchboard serve` flag:
//! - a request's head must arrive within [`EdgeConfig::header_read_timeout`]
//!   (this also ends idle keep-alive connections), and its body may not stall
//!   for longer than [`EdgeConfig::body_read_timeout`] (a JSON 408);
//! - one address holds at most [`EdgeConfig::connections_per_address`] TCP
//!   connections; more are closed as soon as they are accepted;
//! - one client holds at most [`EdgeConfig::websockets_per_address`]
//!   WebSockets (a JSON 429), and WebSockets together leave
//!   [`EdgeConfig::descriptor_reserve`] descriptors for everything else (a
//!   JSON 503): see [`sockets`];
//! - behind a proxy, the client is the address the proxy forwarded, believed
//!   only from [`EdgeConfig::trusted_proxies`]: see [`client`];
//! - the answers hyper writes itself (431, 400, 414) leave as the API's JSON
//!   errors too: see `answers.rs`.

mod answers;
mod body;
pub mod client;
mod count;
mod serve;
pub mod sockets;

use std::sync::Arc;
use std::time::Duration;

pub use client::{ClientAddr, TrustedProxies};
pub(crate) use count::address_key;
pub use serve::serve;
pub use sockets::WsSlot;

use crate::metrics::Metrics;

/// Largest request head (request line and headers) read, in bytes: a
/// larger one is answered 431. It also bounds what a connection that never
/// finishes its head can make the server hold.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The limits of the edge. [`Default`] holds the production defaults.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// How long a client has to send a request's head, from the moment the
    /// server waits for it: a new connection's first request, or the next one
    /// on a keep-alive connection (so it is also how long an idle keep-alive
    /// connection stays open). Past it the connection is closed without an
    /// answer. What stops slowloris: without it a connection that sends half
    /// a head is held forever.
    pub header_read_timeout: Duration,
    /// How long a request body may stall (no bytes arriving) before the
    /// request is answered 408 and its connection closed. Measured between
    /// pieces, not over the whole body, so large uploads on slow links still
    /// work.
    pub body_read_timeout: Duration,
    /// TCP connections one address (an IPv4 address, an IPv6 /64) may hold
    /// open at once; more are closed as soon as they are accepted. Not
    /// applied to trusted proxies, whose connections carry everyone's.
    pub connections_per_address: usize,
    /// WebSockets one client (see [`ClientAddr`]) may hold open at once.
    /// Generous: a household or an office behind one NAT opens many tabs.
    pub websockets_per_address: usize,
    /// Open files (descriptors) kept for everything but WebSockets: HTTP
    /// requests, the database, attachments. WebSockets are refused (503) once
    /// they reach the process's open files limit minus this.
    pub descriptor_reserve: u64,
    /// How long shutdown lets HTTP connections finish the requests they are
    /// serving before they are dropped. WebSockets have their own.
    pub shutdown_timeout: Duration,
    /// Proxies (addresses or networks) whose `X-Forwarded-For` names the
    /// client. Empty: every client is its TCP peer and the header is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for EdgeConfig {
    fn default() -> EdgeConfig {
        EdgeConfig {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            connections_per_address: 256,
            websockets_per_address: 64,
            descriptor_reserve: 256,
            shutdown_timeout: Duration::from_secs(5),
            trusted_proxies: Vec::new(),
        }
    }
}

/// The edge of one running server: its limits and what it counts.
#[derive(Debug)]
pub struct Edge {
    config: EdgeConfig,
    trusted: TrustedProxies,
    /// TCP connections open per address.
    tcp: Arc<count::Counts>,
    /// WebSockets open per client, and their ceiling.
    sockets: Arc<sockets::Sockets>,
    /// Where refusals are counted (`/metrics`).
    metrics: Arc<Metrics>,
}

impl Edge {
    /// The edge for `config`; reads the process's open files limit now (so
    /// after `serve` raised it) to place the WebSockets' ceiling.
    pub fn new(config: EdgeConfig, metrics: Arc<Metrics>) -> Edge {
        let trusted = TrustedProxies::new(config.trusted_proxies.iter().copied());
        if !trusted.is_empty() {
            tracing::info!(proxies = ?config.trusted_proxies, "X-Forwarded-For believed from these proxies");
        }
        Edge {
            tcp: count::Counts::new(config.connections_per_address, usize::MAX),
            sockets: sockets::Sockets::new(&config, metrics.clone()),
            trusted,
            metrics,
            config,
        }
    }
}
