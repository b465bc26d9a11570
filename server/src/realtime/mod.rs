//! Realtime: every change the hub makes, pushed over WebSockets to the
//! account's agent consoles and to the visitors it concerns.
//!
//! The path of an event:
//! 1. The hub, still holding the shard's lock, hands each committed change
//!    ([`FeedItem`]) to the account's feed. The lock gives the feed the
//!    shard's order.
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
mod render;
pub mod widget;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;

use crate::hub::routing::Directory;
use crate::hub::shard::LiveConversation;
use crate::hub::writer::Durable;
use crate::store::{Contact, Conversation, Message};

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

/// One conversation's change within a commit: its state before (absent when
/// it was created) and after (absent when it was removed).
#[derive(Debug, Clone)]
pub struct ConversationChange {
    pub before: Option<Conversation>,
    pub after: Option<LiveConversation>,
}

/// A message written or edited in a commit, with where it belongs.
#[derive(Debug, Clone)]
pub struct Posted {
    pub message: Arc<Message>,
    pub edited: bool,
    pub inbox_id: i64,
    /// The visitor link of its conversation, if any.
    pub contact_inbox_id: Option<i64>,
}

/// What the hub hands to an account's feed, in the shard's order.
#[derive(Debug)]
pub enum FeedItem {
    /// Rows queued for one commit; told once they are durable.
    Commit {
        durable: Durable,
        directory: Arc<Directory>,
        conversations: Vec<ConversationChange>,
        messages: Vec<Posted>,
    },
    /// Who is online changed. `users`: effective status per agent;
    /// `inboxes`: whether any collaborator of each inbox is online.
    Presence {
        users: BTreeMap<i64, String>,
        inboxes: HashMap<i64, bool>,
    },
    /// Someone is typing (`on`) or stopped.
    Typing {
        conversation: Conversation,
        on: bool,
        data: switchboard_protocol::realtime::Typing,
    },
    Read {
        conversation: Conversation,
        data: switchboard_protocol::realtime::Read,
    },
    /// A contact's details changed (or it was removed: `None`).
    Contact { id: i64, contact: Option<Contact> },
}

/// Who a frame is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Agents,
    /// The visitor of one contact link (`contact_inbox_id`).
    Visitor(i64),
}

/// A serialized frame as queues hold it. Behind an `Arc`, a queue slot is
/// one pointer: the queue's first block of slots is allocated with the
/// connection, so a smaller slot makes every idle connection smaller.
pub type Frame = Arc<Utf8Bytes>;

pub use channel::{newcomer, Channel, Delivery, Start, Subscriber};
