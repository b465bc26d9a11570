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
//!   connections; more are closed as soon as they are accepted.

mod body;
mod count;
mod serve;

use std::sync::Arc;
use std::time::Duration;

pub use serve::serve;

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
    /// open at once; more are closed as soon as they are accepted.
    pub connections_per_address: usize,
    /// How long shutdown lets HTTP connections finish the requests they are
    /// serving before they are dropped. WebSockets have their own.
    pub shutdown_timeout: Duration,
}

impl Default for EdgeConfig {
    fn default() -> EdgeConfig {
        EdgeConfig {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            connections_per_address: 256,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// The edge of one running server: its limits and what it counts.
#[derive(Debug)]
pub struct Edge {
    config: EdgeConfig,
    /// TCP connections open per address.
    tcp: Arc<count::Counts>,
    /// Where refusals are counted (`/metrics`).
    metrics: Arc<Metrics>,
}

impl Edge {
    pub fn new(config: EdgeConfig, metrics: Arc<Metrics>) -> Edge {
        Edge {
            tcp: count::Counts::new(config.connections_per_address, usize::MAX),
            metrics,
            config,
        }
    }
}
