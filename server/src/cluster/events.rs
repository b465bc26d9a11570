//! The [`Relay`] over NATS: what the owner's dispatcher does to an
//! account's channel is published on the account's subject, once, in
//! order; every other node holding a channel of the account applies it.
//!
//! A node subscribes to an account's subject when it makes a channel for
//! it (its first socket of the account, or its first ownership), and
//! keeps the subscription while the process lives. Until the subscription
//! is in place (a round trip to NATS) the new channel hears nothing: a
//! client resuming there meanwhile gets `resync`, as after a restart.

use std::sync::{Arc, OnceLock, Weak};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::wire::Subjects;
use crate::realtime::relay::{ChannelOp, Relay};
use crate::realtime::Realtime;

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    origin: String,
    op: ChannelOp,
}

/// What a node does when another node's owner told an account to resync
/// (it took the account over): report this node's consoles of it.
pub(super) type OnResync = Box<dyn Fn(i64) + Send + Sync>;

pub(crate) struct NatsRelay {
    node: Arc<str>,
    subjects: Subjects,
    nats: async_nats::Client,
    out: mpsc::UnboundedSender<(i64, Vec<u8>)>,
    realtime: OnceLock<Weak<Realtime>>,
    on_resync: OnceLock<OnResync>,
    me: Weak<NatsRelay>,
}

impl NatsRelay {
    /// A relay publishing for `node`; its publisher task runs until the
    /// relay is dropped.
    pub(crate) fn new(
        node: Arc<str>,
        subjects: Subjects,
        nats: async_nats::Client,
    ) -> Arc<NatsRelay> {
        let (out, mut queue) = mpsc::unbounded_channel::<(i64, Vec<u8>)>();
        let publisher = nats.clone();
        let to = subjects.clone();
        // One task publishes in queue order: NATS keeps one connection's
        // order on a subject, so every node sees the owner's order.
        tokio::spawn(async move {
            while let Some((account_id, bytes)) = queue.recv().await {
                if let Err(e) = publisher.publish(to.events(account_id), bytes.into()).await {
                    tracing::warn!(account_id, error = %e, "an event did not reach other nodes");
                }
            }
        });
        Arc::new_cyclic(|me| NatsRelay {
            node,
            subjects,
            nats,
            out,
            realtime: OnceLock::new(),
            on_resync: OnceLock::new(),
            me: me.clone(),
        })
    }

    /// Completes the relay once the realtime layer and the node exist.
    pub(super) fn connect(&self, realtime: Weak<Realtime>, on_resync: OnResync) {
        let _ = self.realtime.set(realtime);
        let _ = self.on_resync.set(on_resync);
    }
}

impl Relay for NatsRelay {
    fn send(&self, account_id: i64, op: ChannelOp) {
        let envelope = Envelope {
            origin: self.node.to_string(),
            op,
        };
        match serde_json::to_vec(&envelope) {
            Ok(bytes) => {
                let _ = self.out.send((account_id, bytes));
            }
            Err(e) => tracing::error!(account_id, error = %e, "an event could not be encoded"),
        }
    }

    fn watch(&self, account_id: i64) {
        let relay = self.me.clone();
        tokio::spawn(async move {
            let Some((nats, subject)) = relay
                .upgrade()
                .map(|r| (r.nats.clone(), r.subjects.events(account_id)))
            else {
                return;
            };
            let mut events = match nats.subscribe(subject).await {
                Ok(events) => events,
                Err(e) => {
                    tracing::error!(account_id, error = %e, "cannot hear the account's events");
                    return;
                }
            };
            while let Some(message) = events.next().await {
                let Ok(envelope) = serde_json::from_slice::<Envelope>(&message.payload) else {
                    tracing::warn!(account_id, "an unreadable event from another node");
                    continue;
                };
                let Some(relay) = relay.upgrade() else { return };
                if *envelope.origin == *relay.node {
                    continue;
                }
                let resync = matches!(envelope.op, ChannelOp::Resync { .. });
                let realtime = relay.realtime.get().and_then(Weak::upgrade);
                if let Some(channel) = realtime.and_then(|r| r.existing(account_id)) {
                    channel.apply(envelope.op);
                }
                if resync {
                    if let Some(on_resync) = relay.on_resync.get() {
                        on_resync(account_id);
                    }
                }
            }
        });
    }
}
