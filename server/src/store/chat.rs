//! Contacts, conversations and messages, and the writes the hub queues for
//! the group-commit writer.

use serde_json::Value;

/// A person who writes in: a website visitor, an API-channel user, a phone number.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    /// Lower-case; unique within the account.
    pub email: Option<String>,
    pub phone_number: Option<String>,
    /// The company's own id for this person; unique within the account.
    pub identifier: Option<String>,
    /// A JSON object of the company's own fields.
    pub custom_attributes: Value,
    pub created_at: i64,
    /// Its record in the account's CRM, written by the CRM sync only.
    pub crm: Option<switchboard_protocol::chat::CrmLink>,
    /// The identifier was named by a visitor without a signature (see
    /// [`ContactFields::identifier_by_visitor`]).
    pub identifier_by_visitor: bool,
}

impl Contact {
    /// The name to write where a name must appear (activity lines, CRM
    /// titles): theirs, or "Visitor #12" for a visitor who gave none.
    pub fn shown_name(&self) -> String {
        if self.name.trim().is_empty() {
            format!("Visitor #{}", self.id)
        } else {
            self.name.clone()
        }
    }
}

/// Fields of a contact to create or replace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFields {
    pub name: String,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub identifier: Option<String>,
    pub custom_attributes: Value,
    /// Whoever named `identifier` proved nothing: a widget visitor without
    /// `identifier_hash`, or a caller of the Public API. The identifier then
    /// labels this contact, but a signed identity never becomes this contact
    /// (it takes the identifier over instead): nobody can claim an
    /// identifier before its owner arrives and inherit what they write.
    pub identifier_by_visitor: bool,
}

impl ContactFields {
    /// The fields as they are on `c`, to change some and save them.
    pub fn of(c: &Contact) -> ContactFields {
        ContactFields {
            name: c.name.clone(),
            email: c.email.clone(),
            phone_number: c.phone_number.clone(),
            identifier: c.identifier.clone(),
            custom_attributes: c.custom_attributes.clone(),
            identifier_by_visitor: c.identifier_by_visitor,
        }
    }
}

/// A contact as one inbox knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactInbox {
    pub id: i64,
    pub contact_id: i64,
    pub inbox_id: i64,
    /// How the channel names the contact; for API inboxes, the unguessable
    /// identifier of the public client API.
    pub source_id: String,
    /// Handed out only to widget sessions that proved the contact's
    /// identifier with the inbox's HMAC: the only links a signed identity
    /// may reuse.
    pub hmac_verified: bool,
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}
pub(super) use string_enum;

/// Where a conversation stands: the protocol's own vocabulary.
pub use switchboard_protocol::chat::ConversationStatus;

string_enum! {
    /// Who a message comes from: the contact (incoming), the team (outgoing),
    /// the system (activity: "Assigned to Ana by Bruno"), or a template.
    MessageType { Incoming = "incoming", Outgoing = "outgoing", Activity = "activity", Template = "template" }
}

string_enum! {
    /// How far a message got on its channel (WhatsApp reports each step).
    /// Only moves forward, except to `Failed`.
    MessageStatus { Sent = "sent", Delivered = "delivered", Read = "read", Failed = "failed" }
}

impl MessageStatus {
    fn rank(self) -> u8 {
        match self {
            MessageStatus::Sent => 0,
            MessageStatus::Delivered => 1,
            MessageStatus::Read => 2,
            MessageStatus::Failed => 3,
        }
    }

    /// Whether a report of `next` moves a message in this state forward:
    /// reports arrive out of order, and a read message stays read.
    pub fn advances_to(self, next: MessageStatus) -> bool {
        match (self, next) {
            (MessageStatus::Read, _) => false,
            (_, MessageStatus::Failed) => self != MessageStatus::Failed,
            _ => next.rank() > self.rank(),
        }
    }
}

impl MessageType {
    /// Chatwoot's integer encoding, used in its JSON.
    pub fn code(self) -> i64 {
        match self {
            MessageType::Incoming => 0,
            MessageType::Outgoing => 1,
            MessageType::Activity => 2,
            MessageType::Template => 3,
        }
    }
}

/// The author of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Sender {
    /// An agent (a user of the account).
    User(i64),
    Contact(i64),
}

impl Sender {
    pub fn type_str(self) -> &'static str {
        match self {
            Sender::User(_) => "User",
            Sender::Contact(_) => "Contact",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Sender::User(id) | Sender::Contact(id) => id,
        }
    }

    pub fn from_parts(kind: Option<&str>, id: Option<i64>) -> Option<Self> {
        match (kind, id) {
            (Some("User"), Some(id)) => Some(Sender::User(id)),
            (Some("Contact"), Some(id)) => Some(Sender::Contact(id)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conversation {
    pub id: i64,
    pub account_id: i64,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub contact_inbox_id: Option<i64>,
    pub status: ConversationStatus,
    pub assignee_id: Option<i64>,
    /// Unix seconds; a snoozed conversation reopens then. `None` with
    /// `Snoozed` means until the contact writes again.
    pub snoozed_until: Option<i64>,
    pub created_at: i64,
    pub last_activity_at: i64,
    /// When it was assigned automatically, while that assignee has not
    /// answered yet: the clock of `reassign_after_seconds`. Stored, so the
    /// clock survives a restart.
    pub auto_assigned_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub id: i64,
    pub account_id: i64,
    pub conversation_id: i64,
    pub message_type: MessageType,
    pub content: Option<String>,
    /// A private note: agents only, never shown to the contact.
    pub private: bool,
    pub sender: Option<Sender>,
    pub echo_id: Option<String>,
    pub content_attributes: Value,
    pub deleted: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The channel's id for it (WhatsApp's `wamid...`), once known.
    pub source_id: Option<String>,
    pub status: MessageStatus,
}

/// One write queued for the group-commit writer. The writer applies them in
/// queue order, so a message never reaches the database before its conversation.
#[derive(Debug, Clone)]
pub enum WriteOp {
    InsertConversation(Conversation),
    /// Saves the conversation's whole mutable state (status, assignee, ...).
    UpdateConversation(Conversation),
    /// Shared with the hub's memory: the same row, not a copy.
    InsertMessage(std::sync::Arc<Message>),
    /// Saves content, attributes and the deleted flag.
    UpdateMessage(Message),
    /// Removes the contact with its conversations and messages.
    DeleteContact {
        account_id: i64,
        contact_id: i64,
    },
    /// Removes the inbox with its conversations, messages and collaborators.
    DeleteInbox {
        account_id: i64,
        inbox_id: i64,
    },
    /// Queues an outbound call in the same commit as what caused it.
    InsertDelivery(super::NewDelivery),
}
