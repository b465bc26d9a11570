//! Opening conversations, changing them (status, assignee) and removing
//! them with their contact or inbox: each reserves a writer slot, applies the
//! change and the engine's decisions under the shard's lock, queues the rows,
//! and answers once they are committed.

use std::sync::Arc;

use super::shard::{Echoes, LiveConversation, Opened, ShardState};
use super::writer::Durable;
use super::{Hub, HubError, HubResult, NewConversation, NewMessage};

/// How long a start may be retried with its echo id and answered with the
/// conversation it opened: a client retrying after a lost answer does so
/// within seconds; later, the same echo id is a new start.
pub(super) const START_RETRIED_WITHIN: i64 = 10 * 60;

/// What a start found under the shard's lock.
enum Started {
    Opened(Box<(LiveConversation, Vec<Arc<Message>>, Durable)>),
    /// (conversation, its first message, the commit that opened it).
    Retried((i64, Option<i64>, Durable)),
}
use super::feed::FeedItem;
use crate::store::{now, Conversation, ConversationStatus, Message, MessageType, WriteOp};

impl Hub {
    /// Opens a conversation with its first messages. Without an assignee, in
    /// an inbox that assigns automatically, the engine picks one in the same
    /// critical section that records it. Answers once committed.
    ///
    /// A start whose `echo_id` opened the contact link's newest conversation
    /// within `START_RETRIED_WITHIN` (a retry after a lost answer) answers
    /// with that conversation and its first message, and adds nothing.
    ///
    /// # Cancel safety
    /// As [`Hub::change`]: dropped after its slot is held, the conversation
    /// is still opened and committed; a retry with the same `echo_id` gets
    /// it back.
    pub async fn create_conversation(
        &self,
        new: NewConversation,
    ) -> HubResult<(LiveConversation, Vec<Arc<Message>>)> {
        self.ensure_roster(new.account_id).await?;
        let shard = self.shard(new.account_id);
        let seen = new
            .echo_id
            .as_deref()
            .and_then(|e| Self::lock(&shard).started_with(&new, e, now()));
        if let Some(retried) = seen {
            return self.started_answer(&shard, retried).await;
        }
        let slot = self.slot().await?;
        let opened = {
            let mut state = Self::lock(&shard);
            let at = now();
            // The same echo id may have raced in while we waited for the
            // slot: checked again under the lock that creates, so one wins.
            match new
                .echo_id
                .as_deref()
                .and_then(|e| state.started_with(&new, e, at))
            {
                Some(retried) => Started::Retried(retried),
                None => Started::Opened(Box::new(self.open(&mut state, slot, new, at))),
            }
        };
        match opened {
            Started::Opened(opened) => {
                let (live, messages, durable) = *opened;
                Self::durable(durable).await?;
                Ok((live, messages))
            }
            Started::Retried(retried) => self.started_answer(&shard, retried).await,
        }
    }

    /// Opens the conversation in the shard (the caller holds its lock).
    fn open(
        &self,
        state: &mut ShardState,
        slot: super::writer::Slot<'_>,
        new: NewConversation,
        at: i64,
    ) -> (LiveConversation, Vec<Arc<Message>>, Durable) {
        let mut conversation = Conversation {
            id: self.ids.conversation(),
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
        if conversation.assignee_id.is_none() && conversation.status == ConversationStatus::Open {
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
        let contact_inbox_id = conversation.contact_inbox_id;
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
            hmac_verified: state.verified(contact_inbox_id, at),
            opened_by: None,
        };
        state.insert(live.clone());
        let durable = self.commit(state, slot, ops);
        for m in &messages {
            live.echoes.remember(m, durable.clone());
        }
        if let Some(stored) = state.conversations.get_mut(&live.conversation.id) {
            stored.echoes = live.echoes.clone();
            stored.opened_by = new.echo_id.map(|echo| Opened {
                echo: echo.into(),
                message_id: messages
                    .iter()
                    .find(|m| m.message_type != MessageType::Activity)
                    .map(|m| m.id),
                durable: durable.clone(),
            });
        }
        live.queue_position = state.queue_position(&live.conversation);
        (live, messages, durable)
    }

    /// The answer to a retried start: the conversation it opened and its
    /// first message, once committed.
    async fn started_answer(
        &self,
        shard: &Arc<std::sync::Mutex<ShardState>>,
        retried: (i64, Option<i64>, Durable),
    ) -> HubResult<(LiveConversation, Vec<Arc<Message>>)> {
        let (conversation_id, message_id, durable) = retried;
        let first = match message_id {
            Some(id) => vec![self.first(conversation_id, id, durable).await?],
            None => {
                Self::durable(durable).await?;
                Vec::new()
            }
        };
        let state = Self::lock(shard);
        let live = state
            .conversations
            .get(&conversation_id)
            .ok_or(HubError::NotFound)?;
        Ok((Self::with_position(&state, live), first))
    }

    /// Changes a conversation's state with `change` (which may refuse with an
    /// error and returns activity lines) and answers once committed. A
    /// conversation reopened for an absent assignee is assigned again, unless
    /// the assignee is the `actor` reopening it; with queue pull on, slots it
    /// frees go to waiting conversations at once.
    ///
    /// # Errors
    /// [`HubError::NotFound`] for a conversation the account does not
    /// have; whatever `change` refuses with; [`HubError::Busy`] when the
    /// writer's queue stayed full (nothing changed); [`HubError::Write`]
    /// when the database refused the commit (nothing was acknowledged, and
    /// the shard is read again before its next write); [`HubError::Store`]
    /// when the account's settings could not be read.
    ///
    /// # Cancel safety
    /// Not atomic with respect to cancellation. Dropped while waiting for
    /// the roster or a queue slot, nothing has changed. Once the slot is
    /// held, the change is applied and queued in one step under the shard's
    /// lock (no await in between), so a future dropped after that point
    /// still commits and is published: only the answer is lost. A client
    /// that retries after a lost answer sees the state as changed (status
    /// and assignee changes are idempotent; new messages and conversations
    /// carry echo ids for that reason).
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
        self.fresh(account_id).await?;
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
