//! What a visitor's connection does with each frame once it is
//! authenticated: start conversations, post messages, typing, history and
//! identity.

use serde_json::json;
use switchboard_protocol::realtime::{AckData, ServerEvent, Typing, VisitorFrame};

use super::{history, identity, links};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::hub::{NewConversation, NewMessage};
use crate::realtime::connection::{Conn, Handler};
use crate::realtime::newcomer;
use crate::store::{ContactFields, ConversationStatus, MessageType, Sender};
use crate::views::frames::frame;

/// What a connection keeps of its visitor while it lives: ids only, so an
/// idle connection stays small.
pub(super) struct VisitorHandler {
    pub(super) state: AppState,
    pub(super) account_id: i64,
    pub(super) inbox_id: i64,
    /// `None` until a newcomer first writes (see [`VisitorHandler::known`]).
    pub(super) visitor: Option<Known>,
    /// This connection's place in the account's channel.
    pub(super) subscriber_id: u64,
    /// Contacts this connection created (see
    /// [`super::links::MAX_CONTACTS_PER_CONNECTION`]).
    pub(super) contacts_made: u8,
}

/// A visitor who is a contact: their link into the inbox and its token.
/// No `Debug`: the token is a credential.
#[derive(Clone)]
pub(super) struct Known {
    pub(super) contact_id: i64,
    pub(super) link_id: i64,
    pub(super) token: String,
    /// See [`crate::store::ContactInbox::hmac_verified`].
    pub(super) verified: bool,
}

impl Handler for VisitorHandler {
    type Frame = VisitorFrame;

    async fn handle(&mut self, conn: &mut Conn, frame_in: VisitorFrame) -> Result<(), ApiError> {
        let ack = match frame_in {
            VisitorFrame::Auth { .. } => {
                return Err(ApiError::bad_request("already authenticated"))
            }
            VisitorFrame::Ping {} => {
                conn.send(frame(ServerEvent::Pong, None, &json!({}))).await;
                return Ok(());
            }
            VisitorFrame::StartConversation { content, echo_id } => {
                self.start(conn, content, echo_id).await?
            }
            VisitorFrame::Message {
                conversation_id,
                content,
                echo_id,
            } => self.message(conversation_id, content, echo_id).await?,
            VisitorFrame::Subscribe { conversation_id } => {
                self.own(conversation_id).await?;
                AckData {
                    conversation_id,
                    message_id: None,
                    echo_id: None,
                }
            }
            VisitorFrame::TypingOn { conversation_id } => {
                return self.typing(conversation_id, true).await;
            }
            VisitorFrame::TypingOff { conversation_id } => {
                return self.typing(conversation_id, false).await;
            }
            VisitorFrame::History {
                conversation_id,
                before,
            } => {
                self.own(conversation_id).await?;
                let page = history::page(self, conversation_id, before).await?;
                conn.send(frame(ServerEvent::History, None, &page)).await;
                return Ok(());
            }
            VisitorFrame::SetUser {
                identifier,
                identifier_hash,
                name,
                email,
                phone_number,
                avatar_url: _,
            } => {
                let who = identity::User {
                    identifier,
                    identifier_hash,
                    name,
                    email,
                    phone_number,
                };
                let identity = identity::set_user(self, who).await?;
                conn.send(frame(ServerEvent::Identity, None, &identity))
                    .await;
                return Ok(());
            }
            VisitorFrame::Triggered { event_info } => {
                return self.triggered(conn, event_info).await
            }
            VisitorFrame::SetCustomAttributes { custom_attributes } => {
                let identity = identity::set_custom_attributes(self, custom_attributes).await?;
                conn.send(frame(ServerEvent::Identity, None, &identity))
                    .await;
                return Ok(());
            }
        };
        conn.send(frame(ServerEvent::Ack, None, &ack)).await;
        Ok(())
    }
}

impl VisitorHandler {
    fn account_id(&self) -> i64 {
        self.account_id
    }

    /// The visitor's link into the inbox (their [`newcomer`] key before
    /// they write).
    pub(super) fn link_id(&self) -> i64 {
        self.visitor
            .as_ref()
            .map_or_else(|| newcomer(self.subscriber_id), |k| k.link_id)
    }

    /// The visitor as a contact, creating it when a newcomer first writes:
    /// then the connection moves onto its link and the visitor is told their
    /// new token in an unasked `identity` frame.
    async fn known(&mut self, conn: &mut Conn) -> Result<Known, ApiError> {
        let (known, contact) = match &self.visitor {
            Some(known) => return Ok(known.clone()),
            None => links::become_contact(self, ContactFields::default(), false).await?,
        };
        let told = links::identity_of(&known, &contact, false);
        conn.send(frame(ServerEvent::Identity, None, &told)).await;
        Ok(known)
    }

    /// The visitor, when the conversation is theirs; anything else is
    /// refused as not found.
    async fn own(&self, conversation_id: i64) -> Result<&Known, ApiError> {
        let refused = || ApiError::not_found("Conversation");
        let known = self.visitor.as_ref().ok_or_else(refused)?;
        let link = self
            .state
            .shards
            .contact_inbox_of(self.account_id(), conversation_id)
            .await;
        if link.is_ok_and(|link| link == Some(known.link_id)) {
            Ok(known)
        } else {
            Err(refused())
        }
    }

    fn incoming(
        &self,
        contact_id: i64,
        content: String,
        echo_id: Option<String>,
    ) -> Result<NewMessage, ApiError> {
        let mut message = crate::input::outgoing(content)?;
        message.message_type = MessageType::Incoming;
        message.sender = Some(Sender::Contact(contact_id));
        message.echo_id = crate::input::echo_id(echo_id)?;
        Ok(message)
    }

    async fn start(
        &mut self,
        conn: &mut Conn,
        content: Option<String>,
        echo_id: Option<String>,
    ) -> Result<AckData, ApiError> {
        // Checked before the visitor becomes a contact: a refused first
        // message stores nothing.
        if let Some(c) = &content {
            crate::input::outgoing(c.clone())?;
        }
        crate::input::echo_id(echo_id.clone())?;
        let known = self.known(conn).await?;
        let first = content
            .map(|c| self.incoming(known.contact_id, c, echo_id.clone()))
            .transpose()?;
        let (live, messages) = self
            .state
            .shards
            .create_conversation(NewConversation {
                account_id: self.account_id(),
                inbox_id: self.inbox_id,
                contact_id: known.contact_id,
                contact_inbox_id: Some(known.link_id),
                status: ConversationStatus::Open,
                assignee_id: None,
                messages: first.into_iter().collect(),
                echo_id: crate::input::echo_id(echo_id.clone())?,
            })
            .await?;
        Ok(AckData {
            conversation_id: live.conversation.id,
            message_id: messages
                .iter()
                .find(|m| m.message_type == MessageType::Incoming)
                .map(|m| m.id),
            echo_id,
        })
    }

    async fn message(
        &self,
        conversation_id: i64,
        content: String,
        echo_id: Option<String>,
    ) -> Result<AckData, ApiError> {
        let contact_id = self.own(conversation_id).await?.contact_id;
        let message = self.incoming(contact_id, content, echo_id)?;
        let stored = self
            .state
            .shards
            .post_message(self.account_id(), conversation_id, message)
            .await
            .map_err(|e| crate::http::hub_not_found_as(e, "Conversation"))?;
        Ok(AckData {
            conversation_id,
            message_id: Some(stored.id),
            echo_id: stored.echo_id.clone(),
        })
    }

    /// The visitor opened the chat window: `webwidget_triggered` webhooks.
    async fn triggered(
        &mut self,
        conn: &mut Conn,
        event_info: serde_json::Value,
    ) -> Result<(), ApiError> {
        let event_info = match event_info {
            serde_json::Value::Null => json!({}),
            v @ serde_json::Value::Object(_) if v.to_string().len() <= 4096 => v,
            _ => {
                return Err(ApiError::invalid(
                    "event_info",
                    "must be a JSON object of at most 4 KiB",
                ))
            }
        };
        // Opening the chat window is the visitor's own act: the webhook
        // names them, so they become a contact here too.
        let known = self.known(conn).await?;
        let contact = self
            .state
            .store
            .get_contact(self.account_id, known.contact_id)
            .await?;
        let current = self
            .state
            .shards
            .contact_conversations(self.account_id, known.contact_id)
            .await?
            .into_iter()
            .filter(|l| {
                l.conversation.inbox_id == self.inbox_id
                    && l.conversation.status != ConversationStatus::Resolved
            })
            .max_by_key(|l| l.conversation.id)
            .map(|l| l.conversation);
        let visit = crate::outbox::plan::Visit {
            inbox_id: self.inbox_id,
            contact_inbox_id: known.link_id,
            conversation: current,
            event_info,
        };
        self.state.shards.widget_triggered(&contact, visit).await?;
        Ok(())
    }

    async fn typing(&self, conversation_id: i64, on: bool) -> Result<(), ApiError> {
        let contact_id = self.own(conversation_id).await?.contact_id;
        let data = Typing {
            conversation_id,
            sender_type: "contact".to_string(),
            sender_id: contact_id,
            name: None,
            is_private: false,
        };
        self.state
            .shards
            .typing(self.account_id(), data, on)
            .await
            .map_err(|e| crate::http::hub_not_found_as(e, "Conversation"))
    }
}
