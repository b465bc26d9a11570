//! What the hub emits: each committed change of an account, in the shard's
//! order, to whoever subscribed through a [`FeedSink`].
//!
//! The hub knows nothing of sockets. At start it is given a sink (the
//! realtime layer in a server, nothing in tests and benches); each shard,
//! when made, asks the sink for its account's queue and pushes every item
//! there while it still holds the shard's lock, which gives the queue the
//! shard's order. Items are pushed before they are durable: the receiver
//! waits on [`FeedItem::Commit`]'s `durable` before telling anyone, so
//! nobody hears of a change that could still be refused.
//!
//! This is one of the two seams a cluster needs (the other is
//! [`super::router`]): a sink may as well publish to other nodes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use tokio::sync::mpsc::UnboundedSender;

use super::directory::Directory;
use super::shard::LiveConversation;
use super::writer::Durable;
use super::Hub;
use crate::store::{Contact, Conversation, Message};

/// Where each account's feed goes.
pub trait FeedSink: Send + Sync + 'static {
    /// An account's shard was made (at start, or on the account's first
    /// use): returns the queue its items go to. `hub` lets the receiver ask
    /// for what the items do not carry (queue positions); it is weak so the
    /// receiver never keeps the hub alive. Called while the hub holds its
    /// map of shards: it must not call back into the hub.
    fn open(&self, account_id: i64, hub: Weak<Hub>) -> UnboundedSender<FeedItem>;
}

/// A sink that drops everything: a hub nobody subscribes to (tests,
/// benchmarks, command-line tools).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoFeed;

impl FeedSink for NoFeed {
    fn open(&self, _account_id: i64, _hub: Weak<Hub>) -> UnboundedSender<FeedItem> {
        // The receiver is dropped at once: sends fail and are ignored.
        tokio::sync::mpsc::unbounded_channel().0
    }
}

/// A shard's end of its account's feed.
#[derive(Debug, Clone)]
pub struct Feed {
    pub account_id: i64,
    tx: UnboundedSender<FeedItem>,
}

impl Feed {
    pub fn new(account_id: i64, tx: UnboundedSender<FeedItem>) -> Feed {
        Feed { account_id, tx }
    }

    /// Hands an item on; dropped when the receiver has gone.
    pub fn push(&self, item: FeedItem) {
        let _ = self.tx.send(item);
    }
}

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
    /// The shard was read again from the store: what subscribers hold
    /// (lists, queue positions) may differ from it, so they reload.
    Resync,
}
