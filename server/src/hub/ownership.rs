//! Cluster mode: the shards of a node come and go with its leases (see
//! `crate::cluster`), and agent consoles are counted per node, so a node
//! that dies takes its consoles' presence with it.

use std::sync::{Arc, Mutex};

use super::feed::FeedItem;
use super::{rebuild, Hub, HubResult};

impl Hub {
    /// This node acquired `account_id` at `epoch`: takes a fresh id block
    /// (above every id a previous owner committed), reads the shard from
    /// the store and tells the account's subscribers to resync, since what
    /// they hold came from another node.
    ///
    /// # Errors
    /// The store could not be read or no id block taken; nothing is kept.
    pub async fn acquire(&self, account_id: i64, epoch: i64) -> anyhow::Result<()> {
        self.ids.fresh_block().await?;
        let mut state = rebuild::load(self.store.as_ref(), Some(account_id))
            .await?
            .remove(&account_id)
            .unwrap_or_default();
        state.take_changes();
        state.epoch = Some(epoch);
        self.attach_feed(account_id, &mut state);
        state.publish(FeedItem::Resync);
        self.shards
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(account_id, Arc::new(Mutex::new(state)));
        tracing::info!(account_id, epoch, "account acquired");
        Ok(())
    }

    /// Lets go of the account's shard once its last queued commit is over
    /// (committed, or refused by the fence). The caller has stopped new
    /// calls reaching it first.
    pub async fn release(&self, account_id: i64) {
        let shard = self
            .shards
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&account_id);
        let last = shard.and_then(|s| Self::lock(&s).last_durable.clone());
        if let Some(last) = last {
            let _ = last.wait().await;
        }
    }

    /// Whether this node runs the account's workers (outbox, time rules):
    /// always on a single server; in cluster mode, while it owns it.
    pub fn owns(&self, account_id: i64) -> bool {
        self.node.is_none() || self.loaded_shard(account_id).is_some()
    }

    /// The accounts whose shards this node holds.
    pub fn owned(&self) -> Vec<i64> {
        self.shards
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect()
    }

    /// `node` has `count` consoles of `user_id` open, as of its report
    /// number `seq` (reports can overtake each other on the way: an older
    /// one is ignored). The change is applied as a presence delta, and
    /// deltas commute, so two reports racing each other still add up.
    ///
    /// # Errors
    /// As [`Hub::agent_presence`].
    pub async fn node_consoles(
        &self,
        account_id: i64,
        node: Arc<str>,
        user_id: i64,
        count: u32,
        seq: u64,
    ) -> HubResult<()> {
        let delta = {
            let shard = self.shard(account_id);
            let mut state = Self::lock(&shard);
            let entry = state.node_consoles.entry((node, user_id)).or_insert((0, 0));
            if seq < entry.1 {
                return Ok(());
            }
            let delta = i64::from(count) - i64::from(entry.0);
            *entry = (count, seq);
            delta
        };
        if delta == 0 {
            return Ok(());
        }
        let delta = i32::try_from(delta).unwrap_or(if delta < 0 { i32::MIN } else { i32::MAX });
        self.agent_presence(account_id, user_id, delta).await
    }

    /// `node` is gone: its consoles close in every account this node owns
    /// (the agents' offline grace starts as if each had closed them).
    pub async fn node_gone(&self, node: &str) {
        for account_id in self.owned() {
            let gone: Vec<(i64, u32)> = {
                let Some(shard) = self.loaded_shard(account_id) else {
                    continue;
                };
                let mut state = Self::lock(&shard);
                let mut gone = Vec::new();
                state.node_consoles.retain(|(n, user), (count, _)| {
                    let keep = n.as_ref() != node;
                    if !keep && *count > 0 {
                        gone.push((*user, *count));
                    }
                    keep
                });
                gone
            };
            for (user, count) in gone {
                let delta = -i32::try_from(count).unwrap_or(i32::MAX);
                if let Err(e) = self.agent_presence(account_id, user, delta).await {
                    tracing::warn!(account_id, error = %e, "a gone node's consoles stay counted");
                }
            }
        }
    }
}
