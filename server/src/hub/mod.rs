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

#[cfg(test)]
mod invariants;
mod roster;
pub mod routing;
pub mod shard;
pub mod writer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::store::{
    now, Conversation, ConversationStatus, Message, MessageType, Sender, Store, StoreError, WriteOp,
};
use shard::{Counts, Echoes, ListFilter, LiveConversation, ShardState};
use writer::{Durable, Writer};

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type HubResult<T> = Result<T, HubError>;

/// ((inbox, agent), open conversations), sorted: see [`Hub::snapshot`].
pub type OpenCounts = Vec<((i64, i64), u32)>;

/// A message to add; the hub fills in ids and times.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message_type: MessageType,
    pub content: Option<String>,
    pub private: bool,
    pub sender: Option<Sender>,
    pub echo_id: Option<String>,
    pub content_attributes: Value,
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
        }
    }
}

/// A conversation to open.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub account_id: i64,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub contact_inbox_id: Option<i64>,
    pub status: ConversationStatus,
    pub assignee_id: Option<i64>,
    /// The first message and any activity lines, in order.
    pub messages: Vec<NewMessage>,
}

/// What the hub knows of a message's echo id.
enum Echo {
    Seen(Arc<Message>, Durable),
    New,
    /// Not known yet whether the store holds it.
    Cold,
}

pub struct Hub {
    store: Arc<dyn Store>,
    writer: Writer,
    shards: RwLock<HashMap<i64, Arc<Mutex<ShardState>>>>,
    next_conversation_id: AtomicI64,
    next_message_id: AtomicI64,
}

impl Hub {
    /// Rebuilds every shard from the store and starts the writer. The handle
    /// completes once [`Hub::stop`] was called and every queued write committed.
    pub async fn start(store: Arc<dyn Store>) -> anyhow::Result<(Arc<Hub>, JoinHandle<()>)> {
        let (max_conversation, max_message) = store.max_ids().await?;
        let mut shards: HashMap<i64, ShardState> = HashMap::new();
        let mut last: HashMap<i64, Message> = store
            .load_last_messages()
            .await?
            .into_iter()
            .map(|m| (m.conversation_id, m))
            .collect();
        for mut conversation in store.load_conversations().await? {
            let last_message = last.remove(&conversation.id).map(Arc::new);
            if let Some(m) = &last_message {
                conversation.last_activity_at = conversation.last_activity_at.max(m.created_at);
            }
            shards
                .entry(conversation.account_id)
                .or_default()
                .insert(LiveConversation {
                    conversation,
                    last_message,
                    echoes: Echoes::default(),
                    queue_position: None,
                });
        }
        // Round-robin cursors and "assigned longest ago" continue from the
        // newest assignments instead of starting over.
        for state in shards.values_mut() {
            let mut assigned: Vec<(i64, i64, i64)> = state
                .conversations
                .values()
                .filter_map(|l| {
                    Some((
                        l.conversation.id,
                        l.conversation.inbox_id,
                        l.conversation.assignee_id?,
                    ))
                })
                .collect();
            assigned.sort_unstable();
            for (_, inbox, agent) in assigned {
                state.note_assignment(inbox, agent);
            }
        }
        tracing::info!(
            accounts = shards.len(),
            conversations = shards
                .values()
                .map(|s| s.conversations.len())
                .sum::<usize>(),
            "hub rebuilt from the store"
        );
        let (writer, handle) = Writer::spawn(store.clone(), QUEUE_CAPACITY);
        let hub = Hub {
            store,
            writer,
            shards: RwLock::new(
                shards
                    .into_iter()
                    .map(|(id, s)| (id, Arc::new(Mutex::new(s))))
                    .collect(),
            ),
            next_conversation_id: AtomicI64::new(max_conversation + 1),
            next_message_id: AtomicI64::new(max_message + 1),
        };
        Ok((Arc::new(hub), handle))
    }

    /// Commits everything queued, then stops the writer.
    pub async fn stop(&self) {
        self.writer.stop().await;
    }

    fn shard(&self, account_id: i64) -> Arc<Mutex<ShardState>> {
        if let Some(shard) = self
            .shards
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account_id)
        {
            return shard.clone();
        }
        let mut shards = self.shards.write().unwrap_or_else(|e| e.into_inner());
        shards.entry(account_id).or_default().clone()
    }

    fn lock(shard: &Mutex<ShardState>) -> MutexGuard<'_, ShardState> {
        // A panic while holding the lock leaves plain data behind; go on.
        shard.lock().unwrap_or_else(|e| e.into_inner())
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

    /// A copy of the conversation with its current place in the queue.
    fn with_position(state: &ShardState, live: &LiveConversation) -> LiveConversation {
        let mut copy = live.clone();
        copy.queue_position = state.queue_position(&live.conversation);
        copy
    }

    /// The contact's conversations, newest first.
    pub fn contact_conversations(&self, account_id: i64, contact_id: i64) -> Vec<LiveConversation> {
        let shard = self.shard(account_id);
        let state = Self::lock(&shard);
        let mut list: Vec<LiveConversation> = state
            .conversations
            .values()
            .filter(|l| l.conversation.contact_id == contact_id)
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

    /// Open counts of one agent in one inbox (what the inbox's maximum counts).
    pub fn open_count(&self, account_id: i64, inbox_id: i64, agent_id: i64) -> u32 {
        Self::lock(&self.shard(account_id)).open_count(inbox_id, agent_id)
    }

    fn message(
        &self,
        account_id: i64,
        conversation_id: i64,
        new: NewMessage,
        at: i64,
    ) -> Arc<Message> {
        Arc::new(Message {
            id: self.next_message_id.fetch_add(1, Ordering::Relaxed),
            account_id,
            conversation_id,
            message_type: new.message_type,
            content: new.content,
            private: new.private,
            sender: new.sender,
            echo_id: new.echo_id,
            content_attributes: new.content_attributes,
            deleted: false,
            created_at: at,
            updated_at: at,
        })
    }

    async fn slot(&self) -> HubResult<writer::Slot<'_>> {
        self.writer
            .reserve(SLOT_WAIT)
            .await
            .map_err(|_| HubError::Busy)
    }

    async fn durable(durable: Durable) -> HubResult<()> {
        durable.wait().await.map_err(HubError::Write)
    }

    /// Opens a conversation with its first messages. Without an assignee, in
    /// an inbox that assigns automatically, the engine picks one in the same
    /// critical section that records it. Answers once committed.
    pub async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> HubResult<(LiveConversation, Vec<Arc<Message>>)> {
        self.ensure_roster(new.account_id).await?;
        let slot = self.slot().await?;
        let shard = self.shard(new.account_id);
        let (live, messages, durable) = {
            let mut state = Self::lock(&shard);
            let at = now();
            let mut conversation = Conversation {
                id: self.next_conversation_id.fetch_add(1, Ordering::Relaxed),
                account_id: new.account_id,
                inbox_id: new.inbox_id,
                contact_id: new.contact_id,
                contact_inbox_id: new.contact_inbox_id,
                status: new.status,
                assignee_id: new.assignee_id,
                snoozed_until: None,
                created_at: at,
                last_activity_at: at,
            };
            let mut lines = new.messages;
            if conversation.assignee_id.is_none() && conversation.status == ConversationStatus::Open
            {
                if let Some(agent) = state.auto_pick(conversation.inbox_id) {
                    conversation.assignee_id = Some(agent);
                    lines.push(NewMessage::activity(format!(
                        "Assigned to {} automatically",
                        state.agent_name(agent)
                    )));
                }
            }
            let messages: Vec<Arc<Message>> = lines
                .into_iter()
                .map(|m| self.message(new.account_id, conversation.id, m, at))
                .collect();
            let mut ops = vec![WriteOp::InsertConversation(conversation.clone())];
            ops.extend(messages.iter().cloned().map(WriteOp::InsertMessage));
            let durable = slot.send(ops);
            let mut live = LiveConversation {
                conversation,
                last_message: messages
                    .iter()
                    .rev()
                    .find(|m| m.message_type != MessageType::Activity)
                    .cloned(),
                echoes: Echoes::warm(),
                queue_position: None,
            };
            for m in &messages {
                live.echoes.remember(m.clone(), durable.clone());
            }
            state.insert(live.clone());
            live.queue_position = state.queue_position(&live.conversation);
            (live, messages, durable)
        };
        Self::durable(durable).await?;
        Ok((live, messages))
    }

    /// Changes a conversation's state with `change` (which may refuse with an
    /// error and returns activity lines) and answers once committed. A
    /// conversation reopened for an absent assignee is assigned again, unless
    /// the assignee is the `actor` reopening it; with queue pull on, slots it
    /// frees go to waiting conversations at once.
    pub async fn change<F>(
        &self,
        account_id: i64,
        conversation_id: i64,
        actor: Option<i64>,
        change: F,
    ) -> HubResult<(Conversation, Vec<Arc<Message>>)>
    where
        F: FnOnce(&mut Conversation) -> HubResult<Vec<NewMessage>>,
    {
        self.ensure_roster(account_id).await?;
        let slot = self.slot().await?;
        let shard = self.shard(account_id);
        let (conversation, messages, durable) = {
            let mut state = Self::lock(&shard);
            let live = state
                .conversations
                .get(&conversation_id)
                .ok_or(HubError::NotFound)?;
            let before = live.conversation.clone();
            let mut conversation = before.clone();
            let mut activity = change(&mut conversation)?;
            if before.status != ConversationStatus::Open && conversation.assignee_id != actor {
                activity.extend(
                    state
                        .reassign_if_absent(&mut conversation)
                        .map(NewMessage::activity),
                );
            }
            state.update(conversation.clone());
            let at = now();
            let mut ops = vec![WriteOp::UpdateConversation(conversation.clone())];
            let messages: Vec<Arc<Message>> = activity
                .into_iter()
                .map(|m| self.message(account_id, conversation_id, m, at))
                .collect();
            ops.extend(messages.iter().cloned().map(WriteOp::InsertMessage));
            self.pulled(&mut state, before.inbox_id, at, &mut ops);
            (conversation, messages, slot.send(ops))
        };
        Self::durable(durable).await?;
        Ok((conversation, messages))
    }

    /// Runs queue pull for an inbox and queues the rows and activity lines of
    /// every conversation it assigned.
    fn pulled(&self, state: &mut ShardState, inbox_id: i64, at: i64, ops: &mut Vec<WriteOp>) {
        for c in state.pull(inbox_id) {
            let agent = c.assignee_id.unwrap_or_default();
            let line = format!("Assigned to {} automatically", state.agent_name(agent));
            ops.push(WriteOp::UpdateConversation(c.clone()));
            let message = self.message(c.account_id, c.id, NewMessage::activity(line), at);
            ops.push(WriteOp::InsertMessage(message));
        }
    }

    /// Adds a message. A retry with an echo id already seen answers with the
    /// first message (once it is committed) and adds nothing. A contact
    /// writing into a resolved or snoozed conversation reopens it.
    pub async fn post_message(
        &self,
        account_id: i64,
        conversation_id: i64,
        new: NewMessage,
    ) -> HubResult<Arc<Message>> {
        let shard = self.shard(account_id);
        if let Some(echo_id) = &new.echo_id {
            // A retry answers with the first message; a conversation loaded
            // from the store first learns the echo ids it already holds.
            for _ in 0..2 {
                let seen = {
                    let state = Self::lock(&shard);
                    let live = state
                        .conversations
                        .get(&conversation_id)
                        .ok_or(HubError::NotFound)?;
                    match live.echoes.get(echo_id) {
                        Some((message, durable)) => Echo::Seen(message.clone(), durable.clone()),
                        None if live.echoes.warm => Echo::New,
                        None => Echo::Cold,
                    }
                };
                match seen {
                    Echo::Seen(message, durable) => {
                        Self::durable(durable).await?;
                        return Ok(message);
                    }
                    Echo::New => break,
                    Echo::Cold => self.warm_echoes(&shard, conversation_id).await?,
                }
            }
        }
        let slot = self.slot().await?;
        let (message, durable) = {
            let mut state = Self::lock(&shard);
            let live = state
                .conversations
                .get(&conversation_id)
                .ok_or(HubError::NotFound)?;
            if let Some((message, durable)) =
                new.echo_id.as_deref().and_then(|e| live.echoes.get(e))
            {
                // The same echo id raced in while we waited for the slot.
                (message.clone(), durable.clone())
            } else {
                let at = now();
                let mut conversation = live.conversation.clone();
                conversation.last_activity_at = at;
                let reopens = new.message_type == MessageType::Incoming
                    && matches!(
                        conversation.status,
                        ConversationStatus::Resolved | ConversationStatus::Snoozed
                    );
                let mut lines = Vec::new();
                if reopens {
                    conversation.status = ConversationStatus::Open;
                    conversation.snoozed_until = None;
                    lines.extend(state.reassign_if_absent(&mut conversation));
                }
                let message = self.message(account_id, conversation_id, new, at);
                // The row's last_activity_at is not rewritten per message:
                // the rebuild derives it from the newest message, which keeps
                // a busy conversation at one row write per message.
                let mut ops = vec![WriteOp::InsertMessage(message.clone())];
                if reopens {
                    ops.push(WriteOp::UpdateConversation(conversation.clone()));
                    for line in lines {
                        let activity = NewMessage::activity(line);
                        ops.push(WriteOp::InsertMessage(self.message(
                            account_id,
                            conversation_id,
                            activity,
                            at,
                        )));
                    }
                }
                let durable = slot.send(ops);
                state.update(conversation);
                if let Some(live) = state.conversations.get_mut(&conversation_id) {
                    if message.message_type != MessageType::Activity {
                        live.last_message = Some(message.clone());
                    }
                    live.echoes.remember(message.clone(), durable.clone());
                }
                (message, durable)
            }
        };
        Self::durable(durable).await?;
        Ok(message)
    }

    /// Loads the echo ids the database holds for a conversation this process
    /// has not seen one for yet, so a retry after a restart is still recognised.
    async fn warm_echoes(&self, shard: &Mutex<ShardState>, conversation_id: i64) -> HubResult<()> {
        let stored = self
            .store
            .recent_echoes(conversation_id, ECHOES_LOADED)
            .await?;
        let mut state = Self::lock(shard);
        if let Some(live) = state.conversations.get_mut(&conversation_id) {
            if !live.echoes.warm {
                for message in stored.into_iter().rev() {
                    live.echoes
                        .remember(Arc::new(message), Durable::committed());
                }
                live.echoes.warm = true;
            }
        }
        Ok(())
    }

    /// Saves an edited message (content, attributes, deleted); answers once committed.
    pub async fn update_message(&self, message: Message) -> HubResult<Message> {
        let slot = self.slot().await?;
        let shard = self.shard(message.account_id);
        let durable = {
            let mut state = Self::lock(&shard);
            let live = state
                .conversations
                .get_mut(&message.conversation_id)
                .ok_or(HubError::NotFound)?;
            if live
                .last_message
                .as_ref()
                .is_some_and(|m| m.id == message.id)
            {
                live.last_message = Some(Arc::new(message.clone()));
            }
            slot.send(vec![WriteOp::UpdateMessage(message.clone())])
        };
        Self::durable(durable).await?;
        Ok(message)
    }

    /// Removes a contact and its conversations; answers once committed.
    pub async fn delete_contact(&self, account_id: i64, contact_id: i64) -> HubResult<()> {
        self.remove_where(
            account_id,
            |c| c.contact_id == contact_id,
            WriteOp::DeleteContact {
                account_id,
                contact_id,
            },
        )
        .await
    }

    /// Removes an inbox and its conversations; answers once committed.
    pub async fn delete_inbox(&self, account_id: i64, inbox_id: i64) -> HubResult<()> {
        self.remove_where(
            account_id,
            |c| c.inbox_id == inbox_id,
            WriteOp::DeleteInbox {
                account_id,
                inbox_id,
            },
        )
        .await
    }

    async fn remove_where(
        &self,
        account_id: i64,
        doomed: impl Fn(&Conversation) -> bool,
        op: WriteOp,
    ) -> HubResult<()> {
        let slot = self.slot().await?;
        let shard = self.shard(account_id);
        let durable = {
            let mut state = Self::lock(&shard);
            let ids: Vec<i64> = state
                .conversations
                .values()
                .filter(|l| doomed(&l.conversation))
                .map(|l| l.conversation.id)
                .collect();
            for id in ids {
                state.remove(id);
            }
            slot.send(vec![op])
        };
        Self::durable(durable).await
    }
}
