//! Realtime: every change the hub makes, pushed over WebSockets to the
//! account's agent consoles and to the visitors it concerns.
//!
//! The path of an event:
//! 1. The hub, still holding the shard's lock, hands each committed change
//!    ([`crate::hub::feed::FeedItem`]) to the account's feed, which
//!    [`Realtime`] opened for it (the hub emits; realtime subscribes). The
//!    lock gives the feed the shard's order.
//! 2. The account's dispatcher ([`dispatch`]) waits until the change is
//!    durable (nobody is told of a message that could still be lost), gives it
//!    the next cursor, serializes it once per audience (agents; the one
//!    visitor it concerns, without private notes) and hands the same bytes to
//!    every subscriber's bounded queue. It never waits on a socket: a
//!    subscriber whose queue is full is cut (close code 4008) and resumes
//!    later with its last cursor.
//! 3. Each connection ([`connection`]) writes its queue to its socket.
//!
//! The last [`BUFFERED_EVENTS`] events (at most [`BUFFERED_BYTES`] of them,
//! see [`ReplayLimits`]) stay in memory so a reconnecting
//! client receives exactly what it missed; a cursor older than that (or from
//! before a restart) gets a `resync` frame and reloads over REST. An account
//! nobody has watched for [`RESUME_WINDOW`] skips rendering altogether. Cursors
//! start at the microsecond the account's feed starts, so they keep growing
//! across restarts.

pub mod agent;
pub mod channel;
pub mod connection;
pub mod dispatch;
pub mod relay;
mod subscribe;
pub mod widget;

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;

/// Events kept per account for resuming.
pub const BUFFERED_EVENTS: usize = 8192;
/// Bytes of those events kept per account: the count alone would let 8192
/// notes of 150,000 characters hold over a gigabyte for one account.
pub const BUFFERED_BYTES: usize = 16 * 1024 * 1024;

/// How much of an account's recent events is kept for resuming: whichever
/// limit is reached first drops the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayLimits {
    pub events: usize,
    pub bytes: usize,
}

impl Default for ReplayLimits {
    fn default() -> Self {
        ReplayLimits {
            events: BUFFERED_EVENTS,
            bytes: BUFFERED_BYTES,
        }
    }
}
/// How long after the last client leaves events are still kept for resuming.
pub const RESUME_WINDOW: std::time::Duration = std::time::Duration::from_secs(600);
/// Frames that may wait for one slow connection before it is cut.
pub const OUTBOUND_QUEUE: usize = 4096;

/// Who a frame is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Audience {
    Agents,
    /// The visitor of one contact link (`contact_inbox_id`).
    Visitor(i64),
}

/// A serialized frame as queues hold it. Behind an `Arc`, a queue slot is
/// one pointer: the queue's first block of slots is allocated with the
/// connection, so a smaller slot makes every idle connection smaller.
pub type Frame = Arc<Utf8Bytes>;

/// The sockets (`/ws/agent`, `/ws/widget`) and the widget's upload of a
/// message with files.
pub fn routes() -> axum::Router<crate::http::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/ws/agent", get(agent::upgrade))
        .route("/ws/widget", get(widget::upgrade))
        .route(
            "/widget/messages",
            post(widget::upload::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::http::MAX_UPLOAD_BYTES,
            )),
        )
}

pub use channel::{newcomer, Channel, Delivery, Start, Subscriber};
pub use subscribe::Realtime;
