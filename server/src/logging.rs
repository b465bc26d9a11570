//! The server's log on stderr. `RUST_LOG` chooses how much is written
//! (default `info`), but no level ever writes a credential:
//!
//! - The WebSocket library writes every frame it reads or sends at `TRACE`:
//!   agents' `auth` frames carry access tokens, `identity` frames carry
//!   visitors' tokens. Those events are dropped whatever `RUST_LOG` says.
//! - Requests are logged by route, never by the path as sent or its query
//!   string (Public API contact identifiers and file keys travel in paths,
//!   Meta's verify token in a query); see `crate::http::request_span`.
//! - Outbound calls' errors are recorded without their URL (Meta's media
//!   links are signed).
//! - Tokens travel in headers and bodies, which are not logged; only their
//!   SHA-256 is stored.

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// What is written without `RUST_LOG`.
const DEFAULT: &str = "info,sqlx=warn,tower_http=info";

/// Installs the log for the process.
pub fn init() {
    let wanted = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(wanted)
        .with_filter(filter_fn(never_frames));
    tracing_subscriber::registry().with(layer).init();
}

/// `false` for the WebSocket library's frame-by-frame trace, which holds
/// frames' contents (tokens among them).
pub fn never_frames(meta: &Metadata<'_>) -> bool {
    !(*meta.level() == Level::TRACE
        && (meta.target().starts_with("tungstenite")
            || meta.target().starts_with("tokio_tungstenite")))
}
