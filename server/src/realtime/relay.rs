//! Cluster mode: an account's events reach sockets on every node.
//!
//! Only the account's owner runs its dispatcher (it renders each event
//! once, with its cursor). Whatever the dispatcher does to the account's
//! [`super::Channel`] on the owner is also handed, as a [`ChannelOp`], to
//! a [`Relay`], which publishes it for the other nodes; a node that holds
//! sockets of the account applies it to its own channel of the account
//! ([`super::Channel::apply`]). Every node's channel thus holds the same
//! events under the same cursors, so a client resumes on whichever node
//! it reconnects to.

use std::collections::{BTreeMap, HashMap};

use super::Audience;

/// One thing the owner's dispatcher did to an account's channel.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ChannelOp {
    /// A resumable event's frames, under `cursor`.
    Publish {
        cursor: u64,
        frames: Vec<(Audience, String)>,
    },
    /// Frames not kept for resuming (typing, queue positions).
    Signal { frames: Vec<(Audience, String)> },
    /// Who is online, the agents' frame, and the visitors' frames when
    /// their inbox went offline (`[0]`) or online (`[1]`).
    Presence {
        users: BTreeMap<i64, String>,
        inboxes: HashMap<i64, bool>,
        agents: String,
        visitors: [String; 2],
    },
    /// Everyone reloads, from `cursor` on.
    Resync { cursor: u64 },
}

/// Where an owner's channel operations go, and how a node asks for the
/// operations of accounts it holds sockets of.
pub trait Relay: Send + Sync + 'static {
    /// Hands `op` of `account_id` to the other nodes.
    fn send(&self, account_id: i64, op: ChannelOp);
    /// A channel of `account_id` was made on this node: the other nodes'
    /// operations for it are wanted from now on.
    fn watch(&self, account_id: i64);
}
