//! The realtime layer's end of the hub's feed: one [`Channel`] per account,
//! which connections subscribe to, fed by that account's dispatcher.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use tokio::sync::mpsc::UnboundedSender;

use super::relay::Relay;
use super::{dispatch, Channel, ReplayLimits};
use crate::hub::feed::{FeedItem, FeedSink};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::store::Store;

/// Every account's channel. Given to [`Hub::start_with`] as its
/// [`FeedSink`]; connections find their account's channel here.
pub struct Realtime {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    replay: ReplayLimits,
    channels: RwLock<HashMap<i64, Arc<Channel>>>,
    /// Cluster mode: where channels hand what they publish, and learn what
    /// other nodes publish (see [`super::relay`]).
    relay: Option<Arc<dyn Relay>>,
}

impl Realtime {
    /// Channels keep `replay` of each account's recent events for clients
    /// that resume; dispatchers read contacts' names from `store`.
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, replay: ReplayLimits) -> Realtime {
        Realtime {
            store,
            metrics,
            replay,
            channels: RwLock::default(),
            relay: None,
        }
    }

    /// Cluster mode: every channel made from now on relays through `relay`.
    pub fn with_relay(mut self, relay: Arc<dyn Relay>) -> Realtime {
        self.relay = Some(relay);
        self
    }

    /// The account's channel if this node has one.
    pub fn existing(&self, account_id: i64) -> Option<Arc<Channel>> {
        self.channels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account_id)
            .cloned()
    }

    /// The account's channel, made on first use: a connection may arrive
    /// before the account's shard is (its feed then joins the same channel).
    pub fn channel(&self, account_id: i64) -> Arc<Channel> {
        if let Some(channel) = self
            .channels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account_id)
        {
            return channel.clone();
        }
        let mut made = false;
        let channel = self
            .channels
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(account_id)
            .or_insert_with(|| {
                made = true;
                Arc::new(Channel::relayed(
                    account_id,
                    self.metrics.clone(),
                    self.replay,
                    self.relay.clone(),
                ))
            })
            .clone();
        if made {
            if let Some(relay) = &self.relay {
                relay.watch(account_id);
            }
        }
        channel
    }
}

impl FeedSink for Realtime {
    fn open(&self, account_id: i64, hub: Weak<Hub>) -> UnboundedSender<FeedItem> {
        dispatch::spawn(self.channel(account_id), hub, self.store.clone())
    }
}
