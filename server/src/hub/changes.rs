//! Opening conversations, changing them (status, assignee) and removing
//! them with their contact or inbox: each reserves a writer slot, applies the
//! change and the engine's decisions under the shard's lock, queues the rows,
//! and answers once they are committed.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::shard::{Echoes, LiveConversation, ShardState};
use super::{Hub, HubError, HubResult, NewConversation, NewMessage};
use crate::realtime::FeedItem;
use crate::store::{now, Conversation, ConversationStatus, Message, MessageType, WriteOp};

impl Hub {
    /// Opens a conversation with its first messages. Without an assignee, in
    /// an inbox that assigns automatically, the engine picks one in the same
    /// critical section that records it. Answers once committed.
    ///
    /// A first message whose echo id already started a conversation of the
    /// same contact link (a retry after a lost answer) answers with that
    /// conversation and its first message, and adds nothing.
    pub async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> HubResult<(LiveConversation, Vec<Arc<Message>>)> {
        self.ensure_roster(new.account_id).await?;
        let shard = self.shard(new.account_id);
        let echo = new.messages.first().and_then(|m| m.echo_id.clone());
        if let Some(echo) = &echo {
            // Conversations loaded from the store learn their echo ids first.
            let candidates = Self::lock(&shard).started_by(&new);
            for id in candidates {
                self.warm_echoes(&shard, id).await?;
            }
            if let Some(started) = self.started(&shard, &new, echo).await? {
                return Ok(started);
            }
        }
        let slot = self.slot().await?;
        let created = {
            let mut state = Self::lock(&shard);
            // The same echo id may have raced in while we waited for the
            // slot: checked under the lock that creates, so only one wins.
            if let Some(seen) = echo.as_deref().and_then(|e| state.started_with(&new, e)) {
                Err((seen, slot))
            } else {
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
                    auto_assigned_at: None,
                };
                let mut lines = new.messages;
                if conversation.assignee_id.is_none()
                    && conversation.status == ConversationStatus::Open
                {
                    if let Some(agent) = state.auto_pick(conversation.inbox_id) {
                        conversation.assignee_id = Some(agent);
                        conversation.auto_assigned_at = Some(at);
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
                let mut live = LiveConversation {
                    conversation,
                    last_message: messages
                        .iter()
                        .rev()
                        .find(|m| m.message_type != MessageType::Activity)
                        .cloned(),
                    last_incoming_at: messages
                        .iter()
                        .filter(|m| m.message_type == MessageType::Incoming)
                        .map(|m| m.created_at)
                        .max(),
                    echoes: Echoes::warm(),
                    queue_position: None,
                    hmac_verified: false,
                };
                live.hmac_verified = state.verified(live.conversation.contact_inbox_id, at);
                state.insert(live.clone());
                let durable = self.commit(&mut state, slot, ops);
                for m in &messages {
                    live.echoes.remember(m, durable.clone());
                }
                if let Some(stored) = state.conversations.get_mut(&live.conversation.id) {
                    stored.echoes = live.echoes.clone();
                }
                live.queue_position = state.queue_position(&live.conversation);
                Ok((live, messages, durable))
            }
        };
        let (live, messages, durable) = match created {
            Ok(created) => created,
            Err(((id, message, durable), slot)) => {
                drop(slot);
                return self.started_answer(&shard, id, message, durable).await;
            }
        };
        Self::durable(durable).await?;
        Ok((live, messages))
    }

    /// The conversation `new`'s echo id already started, answered as its
    /// creation was: the conversation and its first message.
    async fn started(
        &self,
        shard: &Arc<std::sync::Mutex<ShardState>>,
        new: &NewConversation,
        echo: &str,
    ) -> HubResult<Option<(LiveConversation, Vec<Arc<Message>>)>> {
        let seen = Self::lock(shard).started_with(new, echo);
        match seen {
            Some((id, message, durable)) => self
                .started_answer(shard, id, message, durable)
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    async fn started_answer(
        &self,
        shard: &Arc<std::sync::Mutex<ShardState>>,
        conversation_id: i64,
        message_id: i64,
        durable: super::writer::Durable,
    ) -> HubResult<(LiveConversation, Vec<Arc<Message>>)> {
        let first = self.first(conversation_id, message_id, durable).await?;
        let state = Self::lock(shard);
        let live = state
            .conversations
            .get(&conversation_id)
            .ok_or(HubError::NotFound)?;
        Ok((Self::with_position(&state, live), vec![first]))
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
            let at = now();
            if conversation.assignee_id != before.assignee_id {
                // A person chose: the no-reply clock no longer applies.
                conversation.auto_assigned_at = None;
            }
            if conversation.status != ConversationStatus::Open {
                // Nobody owes a reply to a conversation that is not open.
                conversation.auto_assigned_at = None;
            }
            if before.status != ConversationStatus::Open && conversation.assignee_id != actor {
                activity.extend(
                    state
                        .reassign_if_absent(&mut conversation, at)
                        .map(NewMessage::activity),
                );
            }
            state.update(conversation.clone());
            let mut ops = vec![WriteOp::UpdateConversation(conversation.clone())];
            let messages: Vec<Arc<Message>> = activity
                .into_iter()
                .map(|m| self.message(account_id, conversation_id, m, at))
                .collect();
            ops.extend(messages.iter().cloned().map(WriteOp::InsertMessage));
            self.pulled(&mut state, before.inbox_id, at, &mut ops);
            let durable = self.commit(&mut state, slot, ops);
            (conversation, messages, durable)
        };
        Self::durable(durable).await?;
        Ok((conversation, messages))
    }

    /// Runs queue pull for an inbox and queues the rows and activity lines of
    /// every conversation it assigned.
    pub(super) fn pulled(
        &self,
        state: &mut ShardState,
        inbox_id: i64,
        at: i64,
        ops: &mut Vec<WriteOp>,
    ) {
        for c in state.pull(inbox_id, at) {
            let agent = c.assignee_id.unwrap_or_default();
            let line = format!("Assigned to {} automatically", state.agent_name(agent));
            ops.push(WriteOp::UpdateConversation(c.clone()));
            let message = self.message(c.account_id, c.id, NewMessage::activity(line), at);
            ops.push(WriteOp::InsertMessage(message));
        }
    }

    /// Removes a contact and its conversations; answers once committed,
    /// with the ids of the conversations removed (their files go next).
    pub async fn delete_contact(&self, account_id: i64, contact_id: i64) -> HubResult<Vec<i64>> {
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

    /// Removes an inbox and its conversations; answers once committed, with
    /// the ids of the conversations removed.
    pub async fn delete_inbox(&self, account_id: i64, inbox_id: i64) -> HubResult<Vec<i64>> {
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
    ) -> HubResult<Vec<i64>> {
        let slot = self.slot().await?;
        let shard = self.shard(account_id);
        let (durable, ids) = {
            let mut state = Self::lock(&shard);
            let ids: Vec<i64> = state
                .conversations
                .values()
                .filter(|l| doomed(&l.conversation))
                .map(|l| l.conversation.id)
                .collect();
            for &id in &ids {
                state.remove(id);
            }
            if let WriteOp::DeleteContact { contact_id, .. } = op {
                state.publish(FeedItem::Contact {
                    id: contact_id,
                    contact: None,
                });
            }
            (self.commit(&mut state, slot, vec![op]), ids)
        };
        Self::durable(durable).await?;
        Ok(ids)
    }
}
