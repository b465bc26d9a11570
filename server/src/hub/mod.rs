//! The hub: the live state of every account, in memory, persisted through the
//! group-commit [`writer`].
//!
//! Each account is a shard (a mutex over [`shard::ShardState`]); accounts never
//! wait for each other. A change follows one path: reserve a writer slot (or
//! refuse with "busy" before touching anything), lock the shard, check and
//! apply the change, queue its rows, unlock, then wait until the rows are
//! committed before answering. Queuing under the lock keeps the database in
//! the order the shard saw. Conversation and message ids come from the hub, so
//! a write can be acknowledged with its id; on start the hub rebuilds every
//! shard from the store and resumes the ids after the largest stored.

mod changes;
pub mod directory;
pub mod edits;
pub mod feed;
mod ids;
#[cfg(test)]
mod invariants;
mod messages;
mod outbound;
mod ownership;
mod presence;
mod rebuild;
mod roster;
pub mod router;
pub mod routing;
pub mod shard;
pub mod writer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::store::{
    Conversation, ConversationStatus, Message, MessageType, Sender, Store, StoreError, WriteOp,
};
use feed::{Feed, FeedItem, FeedSink, NoFeed, Posted};
pub use ids::{BlockSource, BLOCK};
use shard::{Counts, ListFilter, LiveConversation, ShardState};
use writer::{Durable, Refusal, Writer};

/// Writes that may wait in the writer's queue.
pub const QUEUE_CAPACITY: usize = 16_384;
/// How long a change waits for a queue slot before answering "busy".
const SLOT_WAIT: Duration = Duration::from_secs(2);
/// Echo ids loaded per conversation when it first sees one after a restart.
const ECHOES_LOADED: i64 = 256;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("not found")]
    NotFound,
    /// The write queue stayed full: try again shortly.
    #[error("the server is busy; retry shortly")]
    Busy,
    /// The database refused the write; nothing was acknowledged.
    #[error("the write failed: {0}")]
    Write(Arc<str>),
    /// Cluster mode: this node does not own the account (any more); the
    /// router asks the owner instead. Nothing was written.
    #[error("this node does not own the account")]
    Moved,
    /// Cluster mode: the account's owner did not answer a write in time;
    /// it may or may not have been applied.
    #[error("the account's server did not answer; the change may have been made")]
    Unanswered,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type HubResult<T> = Result<T, HubError>;

/// ((inbox, agent), open conversations), sorted: see [`Hub::snapshot`].
pub type OpenCounts = Vec<((i64, i64), u32)>;

/// A message to add; the hub fills in ids and times.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewMessage {
    pub message_type: MessageType,
    pub content: Option<String>,
    pub private: bool,
    pub sender: Option<Sender>,
    pub echo_id: Option<String>,
    pub content_attributes: Value,
    /// The channel's own id, for messages that arrive over a channel.
    pub source_id: Option<String>,
    /// When the contact wrote it, as the channel says (WhatsApp's
    /// `timestamp`): notifications can arrive days late, and a late message
    /// must not reopen the 24-hour window as if just written. Becomes the
    /// message's `created_at` when earlier than now.
    pub sent_at: Option<i64>,
}

impl NewMessage {
    /// A system line such as "Assigned to Ana by Bruno".
    pub fn activity(content: String) -> NewMessage {
        NewMessage {
            message_type: MessageType::Activity,
            content: Some(content),
            private: false,
            sender: None,
            echo_id: None,
            content_attributes: Value::Object(Default::default()),
            source_id: None,
            sent_at: None,
        }
    }
}

/// A conversation to open.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewConversation {
    pub account_id: i64,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub contact_inbox_id: Option<i64>,
    pub status: ConversationStatus,
    pub assignee_id: Option<i64>,
    /// The first message and any activity lines, in order.
    pub messages: Vec<NewMessage>,
    /// The client's id for this start: a retry with it answers with the
    /// conversation it opened (see [`Hub::create_conversation`]).
    pub echo_id: Option<String>,
}

pub struct Hub {
    store: Arc<dyn Store>,
    writer: Writer,
    /// Set by [`Hub::stop`]: the sweeper stops queueing.
    stopping: AtomicBool,
    shards: RwLock<HashMap<i64, Arc<Mutex<ShardState>>>>,
    ids: ids::Ids,
    /// Cluster mode: this node's name. Shards are then loaded only when
    /// the node acquires their account (see [`Hub::acquire`]).
    node: Option<Arc<str>>,
    /// This server's counters for `/metrics`.
    metrics: Arc<Metrics>,
    /// Where each account's committed changes go (see [`feed`]).
    sink: Arc<dyn FeedSink>,
    /// This hub, for the feeds' receivers (see [`FeedSink::open`]).
    me: std::sync::Weak<Hub>,
    /// Told when a commit that queued outbound calls is durable.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// Serialises edits of one conversation's messages.
    message_edits: edits::Stripes,
    customer_locks: edits::Stripes,
    crm_locks: edits::Stripes,
    early_reports: edits::EarlyReports,
}

impl Hub {
    /// Rebuilds every shard from the store and starts the writer. The handle
    /// completes once [`Hub::stop`] was called and every queued write committed.
    /// Nobody hears of its changes: see [`Hub::start_with`].
    pub async fn start(store: Arc<dyn Store>) -> anyhow::Result<(Arc<Hub>, JoinHandle<()>)> {
        Self::start_with(store, Arc::default(), Arc::new(NoFeed)).await
    }

    /// [`Hub::start`], counting in `metrics` and handing every account's
    /// committed changes to `sink`.
    pub async fn start_with(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        sink: Arc<dyn FeedSink>,
    ) -> anyhow::Result<(Arc<Hub>, JoinHandle<()>)> {
        let (max_conversation, max_message) = store.max_ids().await?;
        let shards = rebuild::load(store.as_ref(), None).await?;
        tracing::info!(
            accounts = shards.len(),
            conversations = shards
                .values()
                .map(|s| s.conversations.len())
                .sum::<usize>(),
            "hub rebuilt from the store"
        );
        let ids = ids::Ids::local(max_conversation, max_message);
        let (hub, handle) = Self::build(store, metrics, sink, ids, None);
        {
            let mut map = hub.shards.write().unwrap_or_else(|e| e.into_inner());
            for (account_id, mut state) in shards {
                // The rebuild is not news.
                state.take_changes();
                hub.attach_feed(account_id, &mut state);
                map.insert(account_id, Arc::new(Mutex::new(state)));
            }
        }
        Ok((hub, handle))
    }

    /// A cluster node's hub (see `crate::cluster`): no shard is loaded
    /// until the node acquires its account ([`Hub::acquire`]); ids come
    /// from `blocks`; every commit is fenced by the leases of `node`.
    pub async fn start_cluster(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        sink: Arc<dyn FeedSink>,
        node: Arc<str>,
        blocks: Arc<dyn BlockSource>,
    ) -> anyhow::Result<(Arc<Hub>, JoinHandle<()>)> {
        let ids = ids::Ids::blocks(blocks).await?;
        Ok(Self::build(store, metrics, sink, ids, Some(node)))
    }

    /// The hub with no shard yet, its writer, sweeper and reloader running.
    fn build(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        sink: Arc<dyn FeedSink>,
        ids: ids::Ids,
        node: Option<Arc<str>>,
    ) -> (Arc<Hub>, JoinHandle<()>) {
        let (refused_tx, refused) = tokio::sync::mpsc::unbounded_channel();
        let (writer, handle) = Writer::spawn(
            store.clone(),
            QUEUE_CAPACITY,
            metrics.clone(),
            refused_tx,
            node.clone(),
        );
        let hub = |me| Hub {
            sink,
            me,
            metrics,
            outbox_wake: Arc::default(),
            message_edits: Default::default(),
            customer_locks: Default::default(),
            crm_locks: Default::default(),
            early_reports: Default::default(),
            store,
            writer,
            stopping: AtomicBool::new(false),
            shards: RwLock::default(),
            ids,
            node,
        };
        let hub = Arc::new_cyclic(|me| hub(me.clone()));
        tokio::spawn(sweeper(Arc::downgrade(&hub)));
        Self::spawn_reloader(Arc::downgrade(&hub), refused);
        (hub, handle)
    }

    /// (writes queued, queue capacity), for `/metrics`.
    pub fn writer_depth(&self) -> (usize, usize) {
        self.writer.depth()
    }

    /// This server's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Commits everything queued, then stops the writer.
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.writer.stop().await;
    }

    /// The account's shard, made on first use. In cluster mode a shard is
    /// made only by [`Hub::acquire`]: an account this node does not own
    /// gets an empty shard that is kept nowhere and whose writes the writer
    /// refuses (it has no epoch), so nothing reaches the database from it.
    fn shard(&self, account_id: i64) -> Arc<Mutex<ShardState>> {
        if let Some(shard) = self.loaded_shard(account_id) {
            return shard;
        }
        if self.node.is_some() {
            tracing::warn!(account_id, "a call reached a shard this node does not own");
            return Arc::default();
        }
        let mut shards = self.shards.write().unwrap_or_else(|e| e.into_inner());
        shards
            .entry(account_id)
            .or_insert_with(|| {
                let shard = Arc::new(Mutex::new(ShardState::default()));
                self.attach_feed(account_id, &mut Self::lock(&shard));
                shard
            })
            .clone()
    }

    /// The account's shard if it exists; never makes one.
    fn loaded_shard(&self, account_id: i64) -> Option<Arc<Mutex<ShardState>>> {
        self.shards
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account_id)
            .cloned()
    }

    /// Connects a new shard to its account's feed (see [`FeedSink::open`]).
    fn attach_feed(&self, account_id: i64, state: &mut ShardState) {
        let tx = self.sink.open(account_id, self.me.clone());
        state.feed = Some(Feed::new(account_id, tx));
        state.metrics = self.metrics.clone();
    }

    /// The visitor link of each conversation waiting in the inbox's queue,
    /// first in line first: what the feed's receiver tells visitors of
    /// their place in line.
    /// An account without a shard has no queue (and gets no shard here).
    pub fn queue_links(&self, account_id: i64, inbox_id: i64) -> Vec<(i64, Option<i64>)> {
        let Some(shard) = self.loaded_shard(account_id) else {
            return Vec::new();
        };
        let state = Self::lock(&shard);
        state
            .waiting(inbox_id)
            .into_iter()
            .filter_map(|(_, id)| {
                let link = state.conversations.get(&id)?.conversation.contact_inbox_id;
                Some((id, link))
            })
            .collect()
    }

    /// Queues `ops` as one commit and hands the conversations changed since
    /// the last commit and the messages among `ops` to the realtime feed,
    /// in the shard's order (the caller holds its lock).
    fn commit(&self, state: &mut ShardState, slot: writer::Slot<'_>, ops: Vec<WriteOp>) -> Durable {
        let conversations = state.take_changes();
        let messages: Vec<Posted> = ops
            .iter()
            .filter_map(|op| {
                let (message, edited) = match op {
                    WriteOp::InsertMessage(m) => (m.clone(), false),
                    WriteOp::UpdateMessage(m) => (Arc::new(m.clone()), true),
                    _ => return None,
                };
                let c = &state
                    .conversations
                    .get(&message.conversation_id)?
                    .conversation;
                Some(Posted {
                    inbox_id: c.inbox_id,
                    contact_inbox_id: c.contact_inbox_id,
                    message,
                    edited,
                })
            })
            .collect();
        let directory = state
            .roster
            .as_ref()
            .map(|r| r.directory.clone())
            .unwrap_or_default();
        let deliveries = crate::outbox::plan(&directory, &conversations, &messages, |id| {
            state.conversations.get(&id).map(|l| &l.conversation)
        });
        let calls_out = !deliveries.is_empty();
        let mut ops = ops;
        ops.extend(deliveries.into_iter().map(WriteOp::InsertDelivery));
        // Every shard has its feed, which names its account.
        let shard = state.feed.as_ref().map(|f| writer::ShardRef {
            account_id: f.account_id,
            stale: Some(state.stale.clone()),
            epoch: state.epoch,
        });
        let durable = slot.send(shard, ops);
        state.commits += 1;
        state.last_durable = Some(durable.clone());
        if calls_out {
            self.wake_outbox_after(durable.clone());
        }
        state.publish(FeedItem::Commit {
            durable: durable.clone(),
            directory,
            conversations,
            messages,
        });
        durable
    }

    /// The shard's lock. A panic while it was held leaves plain data that
    /// may be half-changed: it is taken anyway and marked for reloading
    /// (see [`rebuild`]), which the next write does first.
    fn lock(shard: &Mutex<ShardState>) -> MutexGuard<'_, ShardState> {
        shard.lock().unwrap_or_else(|poisoned| {
            shard.clear_poison();
            let state = poisoned.into_inner();
            state.stale.store(true, std::sync::atomic::Ordering::SeqCst);
            state
        })
    }

    /// One page of a conversation list with its tab counts.
    pub fn list(&self, account_id: i64, filter: &ListFilter) -> (Counts, Vec<LiveConversation>) {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        let (counts, page) = state.list(filter);
        let page = page
            .into_iter()
            .map(|l| Self::with_position(&state, l))
            .collect();
        (counts, page)
    }

    pub fn get(&self, account_id: i64, conversation_id: i64) -> HubResult<LiveConversation> {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        state
            .conversations
            .get(&conversation_id)
            .map(|l| Self::with_position(&state, l))
            .ok_or(HubError::NotFound)
    }

    /// The visitor link (contact inbox) a conversation was opened through:
    /// what a visitor's every frame is checked against, so it copies
    /// nothing and skips the queue position (a scan of the account).
    pub fn contact_inbox_of(
        &self,
        account_id: i64,
        conversation_id: i64,
    ) -> HubResult<Option<i64>> {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        state
            .conversations
            .get(&conversation_id)
            .map(|l| l.conversation.contact_inbox_id)
            .ok_or(HubError::NotFound)
    }

    /// A copy of the conversation with its current place in the queue.
    fn with_position(state: &ShardState, live: &LiveConversation) -> LiveConversation {
        let mut copy = live.snapshot();
        copy.queue_position = state.queue_position(&live.conversation);
        copy
    }

    /// A visitor's link was verified (see `ContactInbox::hmac_verified`):
    /// conversations opened through it from now on show `meta.hmac_verified`.
    pub fn link_verified(&self, account_id: i64, link: i64) {
        let shard = self.shard(account_id);
        Self::lock(&shard).verify_link(link, crate::store::now());
    }

    /// The contact's conversations, newest first.
    pub fn contact_conversations(&self, account_id: i64, contact_id: i64) -> Vec<LiveConversation> {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        let mut list: Vec<LiveConversation> = state
            .of_contact(contact_id)
            .iter()
            .filter_map(|id| state.conversations.get(id))
            .map(|l| Self::with_position(&state, l))
            .collect();
        list.sort_unstable_by_key(|l| std::cmp::Reverse(l.conversation.id));
        list
    }

    /// Every conversation of the account (by id) and the open counts: what a
    /// restart must reproduce exactly.
    pub fn snapshot(&self, account_id: i64) -> (Vec<Conversation>, OpenCounts) {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        let mut conversations: Vec<Conversation> = state
            .conversations
            .values()
            .map(|l| l.conversation.clone())
            .collect();
        conversations.sort_unstable_by_key(|c| c.id);
        let mut counts: Vec<_> = state.open_counts().iter().map(|(k, v)| (*k, *v)).collect();
        counts.sort_unstable();
        (conversations, counts)
    }

    fn message(
        &self,
        account_id: i64,
        conversation_id: i64,
        new: NewMessage,
        at: i64,
    ) -> Arc<Message> {
        Arc::new(Message {
            id: self.ids.message(),
            account_id,
            conversation_id,
            message_type: new.message_type,
            content: new.content,
            private: new.private,
            sender: new.sender,
            echo_id: new.echo_id,
            content_attributes: new.content_attributes,
            deleted: false,
            created_at: new.sent_at.map_or(at, |sent| sent.min(at)),
            updated_at: at,
            source_id: new.source_id,
            status: crate::store::MessageStatus::Sent,
        })
    }

    /// A writer slot, with ids at hand for the write (see [`ids`]).
    async fn slot(&self) -> HubResult<writer::Slot<'_>> {
        if let Err(e) = self.ids.headroom().await {
            tracing::warn!(error = %e, "no id block: the write is refused as busy");
            return Err(HubError::Busy);
        }
        self.writer
            .reserve(SLOT_WAIT)
            .await
            .map_err(|_| HubError::Busy)
    }

    async fn durable(durable: Durable) -> HubResult<()> {
        durable.wait().await.map_err(|refusal| match refusal {
            Refusal::Moved => HubError::Moved,
            Refusal::Database(e) => HubError::Write(e),
        })
    }
}

/// Once a second, applies every account's time rules (agents away past their
/// grace period, assignees who did not reply in time; see
/// [`ShardState::sweep`]) and queues the result. Ends with the hub.
async fn sweeper(hub: std::sync::Weak<Hub>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        if hub.stopping.load(Ordering::SeqCst) {
            return;
        }
        let shards: Vec<Arc<Mutex<ShardState>>> = hub
            .shards
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let at = crate::store::now();
        for shard in shards {
            if !Hub::lock(&shard).anything_due(at) {
                continue;
            }
            let Ok(slot) = hub.slot().await else {
                continue;
            };
            let mut state = Hub::lock(&shard);
            // A stale shard waits for its reload (the next write, or the
            // reloader): time rules on it would build on what was refused.
            if state.stale.load(Ordering::SeqCst) {
                continue;
            }
            let changed = state.sweep(at);
            if changed.is_empty() {
                continue;
            }
            let mut ops = Vec::new();
            let mut inboxes = Vec::new();
            for (c, line) in changed {
                inboxes.push(c.inbox_id);
                ops.push(WriteOp::UpdateConversation(c.clone()));
                let message = hub.message(c.account_id, c.id, NewMessage::activity(line), at);
                ops.push(WriteOp::InsertMessage(message));
            }
            inboxes.sort_unstable();
            inboxes.dedup();
            for inbox in inboxes {
                hub.pulled(&mut state, inbox, at, &mut ops);
            }
            tracing::info!(changes = ops.len(), "time rules applied");
            hub.commit(&mut state, slot, ops);
        }
    }
}
