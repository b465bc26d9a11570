//! Conversations, messages and contacts rendered in Chatwoot's shapes.
//!
//! Rendering needs names: agents and inboxes come from the hub's directory,
//! contacts are fetched once per request by primary key (by the caller).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_protocol::api::ChannelType;
use switchboard_protocol::chat as wire;

use crate::hub::routing::Directory;
use crate::hub::shard::LiveConversation;
use crate::store::{Contact, Message, Sender};
use crate::views;

/// The names a page of conversations or messages refers to.
pub struct Names {
    pub contacts: HashMap<i64, Contact>,
    pub directory: Arc<Directory>,
}

impl Names {
    /// These contacts and the account's directory.
    pub(crate) fn new(contacts: Vec<Contact>, directory: Arc<Directory>) -> Names {
        Names {
            contacts: contacts.into_iter().map(|c| (c.id, c)).collect(),
            directory,
        }
    }

    fn sender(&self, sender: Sender) -> Option<wire::MessageSender> {
        match sender {
            Sender::User(id) => self.directory.agents.get(&id).map(|a| wire::MessageSender {
                id,
                name: a.user.name.clone(),
                available_name: a.user.available_name().to_string(),
                avatar_url: String::new(),
                thumbnail: String::new(),
                kind: "user".to_string(),
            }),
            Sender::Contact(id) => self.contacts.get(&id).map(|c| wire::MessageSender {
                id,
                name: c.name.clone(),
                available_name: c.name.clone(),
                avatar_url: String::new(),
                thumbnail: String::new(),
                kind: "contact".to_string(),
            }),
        }
    }

    pub fn message(&self, m: &Message, inbox_id: i64) -> wire::Message {
        wire::Message {
            id: m.id,
            content: m.content.clone(),
            account_id: m.account_id,
            inbox_id,
            conversation_id: m.conversation_id,
            message_type: m.message_type.code(),
            content_type: "text".to_string(),
            content_attributes: m.content_attributes.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            private: m.private,
            status: m.status.as_str().to_string(),
            source_id: m.source_id.clone(),
            sender_type: m.sender.map(|s| s.type_str().to_string()),
            sender_id: m.sender.map(Sender::id),
            sender: m.sender.and_then(|s| self.sender(s)),
            echo_id: m.echo_id.clone(),
            attachments: attachments(m),
        }
    }

    /// The message as its contact sees it (widget, Public API): agents
    /// appear under their display name only, never their full name.
    pub fn message_for_contact(&self, m: &Message, inbox_id: i64) -> wire::Message {
        let mut out = self.message(m, inbox_id);
        if let Some(sender) = out.sender.as_mut().filter(|s| s.kind == "user") {
            sender.name.clone_from(&sender.available_name);
        }
        out
    }

    /// Whether free text can be sent now: always, except on WhatsApp
    /// outside the 24 hours after the contact's last message (then only a
    /// template can go; see [`crate::whatsapp::window`]). Chatwoot's field.
    fn can_reply(&self, live: &LiveConversation) -> bool {
        let whatsapp = self
            .directory
            .inboxes
            .get(&live.conversation.inbox_id)
            .is_some_and(|i| i.channel_type == ChannelType::Whatsapp);
        !whatsapp || crate::whatsapp::window::is_open(live.last_incoming_at)
    }

    pub fn conversation(&self, live: &LiveConversation) -> wire::Conversation {
        let c = &live.conversation;
        let last = live
            .last_message
            .as_ref()
            .map(|m| self.message(m, c.inbox_id));
        let sender = self
            .contacts
            .get(&c.contact_id)
            .map(contact)
            .unwrap_or_else(|| unknown_contact(c.contact_id));
        wire::Conversation {
            id: c.id,
            account_id: c.account_id,
            inbox_id: c.inbox_id,
            contact_id: c.contact_id,
            status: c.status,
            assignee_id: c.assignee_id,
            snoozed_until: c.snoozed_until,
            created_at: c.created_at,
            last_activity_at: c.last_activity_at,
            timestamp: c.last_activity_at,
            unread_count: None,
            can_reply: self.can_reply(live),
            muted: false,
            labels: Vec::new(),
            additional_attributes: json!({}),
            custom_attributes: json!({}),
            priority: None,
            queue_position: live.queue_position,
            messages: last.iter().cloned().collect(),
            last_non_activity_message: last,
            meta: wire::ConversationMeta {
                sender,
                channel: self
                    .directory
                    .inboxes
                    .get(&c.inbox_id)
                    .map(|i| i.channel_type)
                    .unwrap_or(ChannelType::Api),
                assignee: c
                    .assignee_id
                    .and_then(|id| self.directory.agents.get(&id))
                    .map(views::agent),
                hmac_verified: live.hmac_verified,
            },
        }
    }

    pub fn conversations(&self, list: &[LiveConversation]) -> Vec<wire::Conversation> {
        list.iter().map(|l| self.conversation(l)).collect()
    }
}

/// The message's files, from its `content_attributes`, with its ids.
pub(crate) fn attachments(m: &Message) -> Vec<Value> {
    m.content_attributes["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|a| {
            let mut a = a.clone();
            a.insert("message_id".into(), json!(m.id));
            a.insert("account_id".into(), json!(m.account_id));
            Value::Object(a)
        })
        .collect()
}

pub(crate) fn contact(c: &Contact) -> wire::Contact {
    wire::Contact {
        id: c.id,
        name: c.name.clone(),
        email: c.email.clone(),
        phone_number: c.phone_number.clone(),
        identifier: c.identifier.clone(),
        thumbnail: String::new(),
        custom_attributes: c.custom_attributes.clone(),
        additional_attributes: json!({}),
        availability_status: None,
        blocked: false,
        created_at: c.created_at,
        last_activity_at: None,
        crm: c.crm.clone(),
    }
}

/// A contact deleted between listing and rendering.
fn unknown_contact(id: i64) -> wire::Contact {
    wire::Contact {
        id,
        name: String::new(),
        email: None,
        phone_number: None,
        identifier: None,
        thumbnail: String::new(),
        custom_attributes: json!({}),
        additional_attributes: json!({}),
        availability_status: None,
        blocked: false,
        created_at: 0,
        last_activity_at: None,
        crm: None,
    }
}

/// The `{"payload": ...}` envelope as a JSON value.
pub(crate) fn payload(value: impl serde::Serialize) -> Value {
    json!({ "payload": value })
}
