//! The accept loop, and the task that runs each connection.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::Instrument;

use super::answers::ErrorAnswers;
use super::client::ClientAddr;
use super::count::{Full, Slot};
use super::{body, Edge, MAX_HEAD_BYTES};
use crate::metrics::Refused;

/// How long the loop waits after `accept` fails for want of descriptors or
/// memory, so it does not spin; connections closing meanwhile free some.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// What every connection's task shares.
struct Shared {
    edge: Edge,
    app: Router,
    http: http1::Builder,
    /// Cancelled on shutdown: every connection finishes what it serves.
    stop: CancellationToken,
}

/// Serves `app` on `listener` with `edge`'s limits until `shutdown`
/// completes; then stops accepting, asks every connection to finish (idle
/// ones close at once, requests in flight finish) and drops whatever is
/// still open after [`super::EdgeConfig::shutdown_timeout`]. Returns when
/// every connection is closed. An upgraded connection (a WebSocket) is no
/// longer its concern: `AppState::connections` tracks those.
pub async fn serve(
    edge: Edge,
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    // The head's limit is max_header_size; max_buf_size alone is a soft
    // bound (one read may overshoot it), kept to bound what a head still
    // arriving can make the connection hold.
    http.timer(TokioTimer::new())
        .header_read_timeout(edge.config.header_read_timeout)
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_HEAD_BYTES);
    let shared = Arc::new(Shared {
        edge,
        app,
        http,
        stop: CancellationToken::new(),
    });
    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            // The client gave up before we took its connection.
            Err(err) if client_gone(&err) => continue,
            Err(err) => {
                tracing::error!(%err, "accept failed; trying again in a moment");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let Some(slot) = shared.admit(peer) else {
            // Dropped: closed at once.
            continue;
        };
        let span = tracing::debug_span!("connection", %peer);
        connections.spawn(connection(shared.clone(), tcp, peer.ip(), slot).instrument(span));
    }
    drop(listener);
    shared.stop.cancel();
    connections.close();
    connections.wait().await;
}

fn client_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

impl Shared {
    /// The TCP slot of a connection from `peer`, `Some(None)` for a trusted
    /// proxy (its connections carry everyone's: not capped), `None` when
    /// `peer`'s address holds its cap already (counted and logged).
    fn admit(&self, peer: SocketAddr) -> Option<Option<Slot>> {
        if self.edge.trusted.contains(peer.ip()) {
            return Some(None);
        }
        match self.edge.tcp.acquire(peer.ip()) {
            Ok(slot) => Some(Some(slot)),
            Err(Full::Address | Full::Everyone) => {
                self.edge.metrics.refused(Refused::TcpPerAddress);
                tracing::debug!(%peer, "connection refused: too many from this address");
                None
            }
        }
    }

    /// One request: tagged with its client and the WebSocket limits, its
    /// body under the read timeout, then the router.
    async fn answer(&self, peer: IpAddr, request: Request<Incoming>) -> Response {
        let (mut parts, incoming) = request.into_parts();
        let client = ClientAddr::resolve(peer, &parts.headers, &self.edge.trusted);
        parts.extensions.insert(client);
        parts.extensions.insert(self.edge.sockets.clone());
        let within = self.edge.config.body_read_timeout;
        let (body, stalled) = body::limit(incoming, within);
        let response = match self
            .app
            .clone()
            .oneshot(Request::from_parts(parts, body))
            .await
        {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if stalled.happened() {
            tracing::debug!(%client, "request body stalled");
            return body::stalled_answer(within);
        }
        response
    }
}

/// Serves one connection until it closes, or until shutdown plus the
/// shutdown timeout. `_slot` is its place under the per-address cap.
async fn connection(shared: Arc<Shared>, tcp: TcpStream, peer: IpAddr, _slot: Option<Slot>) {
    // Small frames go out at once: without this, Nagle's algorithm holds a
    // pushed event back until the previous one is acknowledged.
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!(%err, "TCP_NODELAY not set");
    }
    let service = {
        let shared = shared.clone();
        hyper::service::service_fn(move |request| {
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(shared.answer(peer, request).await) }
        })
    };
    let io = TokioIo::new(ErrorAnswers::new(tcp));
    let conn = shared.http.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        () = shared.stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let within = shared.edge.config.shutdown_timeout;
            match tokio::time::timeout(within, conn.as_mut()).await {
                Ok(ended) => ended,
                Err(_) => {
                    tracing::debug!("connection still busy at the shutdown deadline: dropped");
                    return;
                }
            }
        }
    };
    if let Err(err) = ended {
        // Header timeouts, resets, heads that do not parse: the client's
        // doing, nothing to act on.
        tracing::debug!(%err, "connection ended");
    }
}
