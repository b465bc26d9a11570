//! Messages: posting, with echo-id retries answered from memory, across
//! restarts. Edits are in [`super::edits`].

use std::sync::{Arc, Mutex};

use super::shard::ShardState;
use super::writer::Durable;
use super::{Hub, HubError, HubResult, NewMessage, ECHOES_LOADED};
use crate::store::{now, ConversationStatus, Message, MessageType, Sender, WriteOp};

/// What the hub knows of a message's echo id.
enum Echo {
    /// The first message's id.
    Seen(i64, Durable),
    New,
    /// Not known yet whether the store holds it.
    Cold,
}

impl Hub {
    /// Adds a message. A retry with an echo id already seen answers with the
    /// first message (once it is committed) and adds nothing. A contact
    /// writing into a resolved or snoozed conversation reopens it.
    ///
    /// # Errors
    /// [`HubError::NotFound`] for a conversation the account does not have,
    /// [`HubError::Busy`] when the writer's queue stayed full (nothing
    /// added), [`HubError::Write`] when the database refused the commit,
    /// [`HubError::Store`] when the account's settings or a conversation's
    /// echo ids could not be read.
    ///
    /// # Cancel safety
    /// As [`Hub::change`]: dropped after its slot is held, the message is
    /// still added and committed; a retry with the same echo id gets it back.
    pub async fn post_message(
        &self,
        account_id: i64,
        conversation_id: i64,
        new: NewMessage,
    ) -> HubResult<Arc<Message>> {
        // The roster names the account's webhooks: without it (the first
        // message after a start) the commit would call out to nobody.
        self.ensure_roster(account_id).await?;
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
                        Some((id, durable)) => Echo::Seen(*id, durable.clone()),
                        None if live.echoes.warm => Echo::New,
                        None => Echo::Cold,
                    }
                };
                match seen {
                    Echo::Seen(id, durable) => {
                        return self.first(conversation_id, id, durable).await
                    }
                    Echo::New => break,
                    Echo::Cold => self.warm_echoes(&shard, conversation_id).await?,
                }
            }
        }
        let slot = self.slot().await?;
        // Ok: the new message; Err: the first message of this echo id.
        let posted = {
            let mut state = Self::lock(&shard);
            let live = state
                .conversations
                .get(&conversation_id)
                .ok_or(HubError::NotFound)?;
            if let Some((id, durable)) = new.echo_id.as_deref().and_then(|e| live.echoes.get(e)) {
                // The same echo id raced in while we waited for the slot.
                Err((*id, durable.clone()))
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
                // The assignee answered: the no-reply clock stops (and the
                // row says so, for restarts).
                let answered = conversation.auto_assigned_at.is_some()
                    && new.message_type == MessageType::Outgoing
                    && conversation
                        .assignee_id
                        .is_some_and(|a| new.sender == Some(Sender::User(a)));
                if answered {
                    conversation.auto_assigned_at = None;
                }
                if reopens {
                    conversation.status = ConversationStatus::Open;
                    conversation.snoozed_until = None;
                    lines.extend(state.reassign_if_absent(&mut conversation, at));
                }
                let message = self.message(account_id, conversation_id, new, at);
                // The row's last_activity_at is not rewritten per message:
                // the rebuild derives it from the newest message, which keeps
                // a busy conversation at one row write per message. A message
                // written long ago (delivered late) would derive an older
                // time: the row says now.
                let late = message.created_at < at;
                let mut ops = vec![WriteOp::InsertMessage(message.clone())];
                if reopens || answered || late {
                    ops.push(WriteOp::UpdateConversation(conversation.clone()));
                }
                if reopens || answered {
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
                state.update(conversation);
                if let Some(live) = state.conversations.get_mut(&conversation_id) {
                    if message.message_type != MessageType::Activity {
                        live.last_message = Some(message.clone());
                    }
                    if message.message_type == MessageType::Incoming {
                        // A late message written long ago does not move the
                        // contact's last word back, nor forward to now.
                        live.last_incoming_at = live.last_incoming_at.max(Some(message.created_at));
                    }
                }
                let durable = self.commit(&mut state, slot, ops);
                if let Some(live) = state.conversations.get_mut(&conversation_id) {
                    live.echoes.remember(&message, durable.clone());
                }
                Ok((message, durable))
            }
        };
        match posted {
            Ok((message, durable)) => {
                Self::durable(durable).await?;
                Ok(message)
            }
            Err((first, durable)) => self.first(conversation_id, first, durable).await,
        }
    }

    /// The message first sent with a retried echo id, once it is committed.
    pub(super) async fn first(
        &self,
        conversation_id: i64,
        message_id: i64,
        durable: Durable,
    ) -> HubResult<Arc<Message>> {
        Self::durable(durable).await?;
        Ok(Arc::new(
            self.store.get_message(conversation_id, message_id).await?,
        ))
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
                for message in stored.iter().rev() {
                    live.echoes.remember(message, Durable::committed());
                }
                live.echoes.warm = true;
            }
        }
        Ok(())
    }
}
