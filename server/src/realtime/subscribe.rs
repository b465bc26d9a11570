//! The realtime layer's end of the hub's feed: one [`Channel`] per account,
//! which connections subscribe to, fed by that account's dispatcher.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use tokio::sync::mpsc::UnboundedSender;

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
        }
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
        self.channels
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(account_id)
            .or_insert_with(|| {
                Arc::new(Channel::new(account_id, self.metrics.clone(), self.replay))
            })
            .clone()
    }
}

impl FeedSink for Realtime {
    fn open(&self, account_id: i64, hub: Weak<Hub>) -> UnboundedSender<FeedItem> {
        dispatch::spawn(self.channel(account_id), hub, self.store.clone())
    }
}
