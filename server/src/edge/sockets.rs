//! WebSockets are what exhausts descriptors: each holds one for as long as
//! a tab stays open, and the widget's website token is public, so anyone can
//! open visitor sockets (one address once opened 19,969 until `accept`
//! failed for everyone). Two limits, checked before the upgrade:
//! - per client ([`ClientAddr`]): at most
//!   [`EdgeConfig::websockets_per_address`], then `429 too_many_connections`;
//! - for everyone: WebSockets may use the process's open files limit minus
//!   [`EdgeConfig::descriptor_reserve`], then `503 at_capacity`, so plain
//!   requests (the API, administrators) always find a descriptor.
//!
//! The upgrade takes a [`WsSlot`] and moves it into the task that runs the
//! socket, so the slot is given back exactly when the socket closes.

use std::future::Future;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;

use super::client::ClientAddr;
use super::count::{Counts, Full, Slot};
use super::EdgeConfig;
use crate::http::error::ApiError;
use crate::metrics::{Metrics, Refused};

/// When a refused client should try again, in seconds.
const RETRY_AFTER: u32 = 10;

/// Open WebSockets per client, and their ceiling. Every request carries
/// the server's in its extensions (put there by [`super::serve`]), for
/// [`WsSlot`] to find.
#[derive(Debug)]
pub(crate) struct Sockets {
    counts: Arc<Counts>,
    metrics: Arc<Metrics>,
}

impl Sockets {
    pub(crate) fn new(config: &EdgeConfig, metrics: Arc<Metrics>) -> Arc<Sockets> {
        let limit = open_files_limit();
        let ceiling = limit.saturating_sub(config.descriptor_reserve);
        let ceiling = usize::try_from(ceiling).unwrap_or(usize::MAX);
        if ceiling == 0 {
            tracing::warn!(
                limit,
                reserve = config.descriptor_reserve,
                "the open files limit leaves no room for WebSockets: every one will be refused; \
                 raise the limit or lower --descriptor-reserve"
            );
        } else {
            tracing::info!(
                websockets = ceiling,
                per_address = config.websockets_per_address,
                "WebSockets allowed"
            );
        }
        Arc::new(Sockets {
            counts: Counts::new(config.websockets_per_address, ceiling),
            metrics,
        })
    }

    fn admit(&self, client: ClientAddr) -> Result<Slot, ApiError> {
        match self.counts.acquire(client.ip()) {
            Ok(slot) => Ok(slot),
            Err(Full::Address) => {
                self.metrics.refused(Refused::WebSocketPerAddress);
                tracing::debug!(%client, "WebSocket refused: too many from this client");
                Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_connections",
                    "Too many live connections from your address; close one or retry later.",
                )
                .retry_after(RETRY_AFTER))
            }
            Err(Full::Everyone) => {
                self.metrics.refused(Refused::WebSocketDescriptors);
                tracing::warn!(
                    open = self.counts.total(),
                    "WebSocket refused: the descriptors left are kept for plain requests"
                );
                Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "at_capacity",
                    "The server has no room for more live connections right now; retry later.",
                )
                .retry_after(RETRY_AFTER))
            }
        }
    }
}

/// The soft limit on open files (what `serve` raised it to), or no limit
/// where it cannot be read.
fn open_files_limit() -> u64 {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, _hard)) => soft,
        Err(err) => {
            tracing::warn!(%err, "the open files limit is unknown; WebSockets are capped per address only");
            u64::MAX
        }
    }
}

/// A WebSocket's place under the limits above: taken as an extractor by an
/// upgrade (refused with the JSON 429 or 503), then moved into the task that
/// runs the socket with [`WsSlot::hold`].
#[derive(Debug)]
pub struct WsSlot {
    /// Given back when dropped.
    _slot: Slot,
}

impl WsSlot {
    /// `socket`, holding this slot until it ends.
    pub async fn hold<F: Future>(self, socket: F) -> F::Output {
        let _slot = self;
        socket.await
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WsSlot {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let client = ClientAddr::from_request_parts(parts, state).await?;
        let sockets = parts
            .extensions
            .get::<Arc<Sockets>>()
            .ok_or_else(|| ApiError::internal("a WebSocket upgrade that bypassed the edge"))?;
        sockets.admit(client).map(|slot| WsSlot { _slot: slot })
    }
}
